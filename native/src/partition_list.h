#pragma once
// A librdkafka partition list from the parallel arrays JS passes (topics, partitions and, when asked,
// offsets), already checked by lib/consumer/messages.ts.
#include <librdkafka/rdkafka.h>
#include <napi.h>

namespace kafka_fd {

// (topics, partitions[, offsets]) at info[first]; the caller destroys the list.
rd_kafka_topic_partition_list_t* PartitionList(const Napi::CallbackInfo& info, size_t first, bool with_offsets);

}  // namespace kafka_fd
