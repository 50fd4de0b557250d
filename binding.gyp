{
  # librdkafka comes from pkg-config, or from LIBRDKAFKA_PREFIX (its include/ and lib/ folders) when set.
  "variables": {
    "librdkafka_prefix%": "<!(node -p \"process.env.LIBRDKAFKA_PREFIX || ''\")"
  },
  "targets": [
    {
      "target_name": "kafka_fd",
      "sources": [
        "native/src/addon.cc",
        "native/src/client.cc",
        "native/src/producer.cc",
        "native/src/produce_batch.cc",
        "native/src/consumer.cc",
        "native/src/message_columns.cc",
        "native/src/partition_list.cc",
        "native/src/message_fields.cc",
        "native/src/poller.cc",
        "native/src/thread_poll.cc",
        "native/src/mock_cluster.cc",
        "native/src/kafka_error.cc",
        "native/src/transaction.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED", "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "conditions": [
        ["librdkafka_prefix==''", {
          "cflags_cc": ["<!@(pkg-config --cflags rdkafka)"],
          "libraries": ["<!@(pkg-config --libs rdkafka)"]
        }, {
          "include_dirs": ["<(librdkafka_prefix)/include"],
          "libraries": ["-L<(librdkafka_prefix)/lib", "-Wl,-rpath,<(librdkafka_prefix)/lib", "-lrdkafka"]
        }]
      ]
    }
  ]
}
