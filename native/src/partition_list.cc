#include "partition_list.h"

#include <string>

namespace kafka_fd {

// (topics, partitions, ...offsets): a list from parallel arrays at info[first].
rd_kafka_topic_partition_list_t* PartitionList(const Napi::CallbackInfo& info, size_t first, bool with_offsets) {
  Napi::Array topics = info[first].As<Napi::Array>();
  Napi::Array partitions = info[first + 1].As<Napi::Array>();
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(static_cast<int>(topics.Length()));
  for (uint32_t i = 0; i < topics.Length(); i++) {
    std::string t = topics.Get(i).ToString();
    rd_kafka_topic_partition_t* tp =
        rd_kafka_topic_partition_list_add(list, t.c_str(), partitions.Get(i).As<Napi::Number>().Int32Value());
    if (with_offsets) tp->offset = info[first + 2].As<Napi::Array>().Get(i).As<Napi::Number>().Int64Value();
  }
  return list;
}

}  // namespace kafka_fd
