{
  "targets": [
    {
      "target_name": "mproxy-pty",
      "type": "executable",
      "sources": ["native/pty/mproxy-pty.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"],
      "ldflags": ["-static", "-s"]
    }
  ]
}
