{
  "targets": [
    {
      "target_name": "wts_lanes",
      "type": "loadable_module",
      "sources": ["wts_lanes.c"],
      "cflags": ["-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-fvisibility=hidden", "-pthread", "-D_GNU_SOURCE"],
      "cflags!": ["-fno-exceptions"],
      "libraries": ["-pthread", "-ldl"],
      "xcode_settings": { "OTHER_CFLAGS": ["-std=c11", "-Wall", "-Wextra", "-fvisibility=hidden"] }
    }
  ]
}
