{
  "targets": [
    {
      "target_name": "mproxy-pty",
      "type": "executable",
      "sources": [
        "native/pty/mproxy-pty.c",
        "native/pty/helper.c",
        "native/pty/spawner.c",
        "native/pty/watcher.c"
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
        "native/trace/mproxy-trace.c",
        "native/trace/tracee.c"
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
      "target_name": "mproxy-client",
      "type": "executable",
      "sources": [
        "native/client/main.c",
        "native/client/relay.c",
        "native/client/socket.c"
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
        "native/shim/pipes.c",
        "native/shim/files.c",
        "native/shim/procs.c",
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
    },
    {
      "target_name": "mproxy_fuse",
      "sources": [
        "native/fuse/attrs.c",
        "native/fuse/answers.c",
        "native/fuse/binding.c",
        "native/fuse/init.c",
        "native/fuse/js.c",
        "native/fuse/notices.c",
        "native/fuse/ops.c",
        "native/fuse/queue.c",
        "native/fuse/notify.c",
        "native/fuse/replies.c"
      ],
      "cflags": [
        "-O2",
        "-Wall",
        "-Wextra",
        "<!@(pkg-config --cflags fuse3)"
      ],
      "cflags_c": [
        "-std=gnu11"
      ],
      "libraries": [
        "<!@(pkg-config --libs fuse3)",
        "-lpthread"
      ]
    }
  ]
}
