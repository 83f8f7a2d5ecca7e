{
  "targets": [
    {
      "target_name": "mproxy-pty",
      "type": "executable",
      "sources": [
        "native/pty/mproxy-pty.c",
        "native/pty/helper.c",
        "native/pty/spawner.c"
      ],
      "cflags": [
        "-O2",
        "-Wall",
        "-Wextra"
      ],
      "ldflags": [
        "-static",
        "-s"
      ]
    },
    {
      "target_name": "mproxy-trace",
      "type": "executable",
      "sources": [
        "native/trace/mproxy-trace.c"
      ],
      "cflags": [
        "-O2",
        "-Wall",
        "-Wextra"
      ],
      "ldflags": [
        "-static",
        "-s"
      ]
    },
    {
      "target_name": "mproxy-shim",
      "type": "executable",
      "sources": [
        "native/shim/main.c",
        "native/shim/link.c",
        "native/shim/buf.c"
      ],
      "cflags": [
        "-O2",
        "-Wall",
        "-Wextra"
      ],
      "ldflags": [
        "-static",
        "-s"
      ]
    }
  ]
}
