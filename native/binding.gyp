{
  "targets": [
    {
      "target_name": "nabla_native",
      "sources": ["elementwise.c", "shared-map.c"],
      "cflags": ["-std=c11", "-ffp-contract=off", "-fno-fast-math", "-fno-builtin-exp"]
    }
  ]
}
