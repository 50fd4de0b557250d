#pragma once
// librdkafka's transaction calls (init, begin, send offsets, commit, abort) wait for the transaction coordinator: they
// run on the libuv threadpool, never on the JS thread, while the poller keeps serving every producer.
// Their errors become KafkaFdErrors with `retriable`, `fatal` and `txnRequiresAbort` as librdkafka says.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <atomic>
#include <functional>

namespace kafka_fd {

enum class TxnOp { kInit = 0, kBegin = 1, kCommit = 2, kAbort = 3, kSendOffsets = 4 };

// Runs `op` on `rk` off the JS thread; the promise settles on the JS thread, after `done` ran there.
// `keep_alive` (the JS producer) is held until then; `running` counts the call while it uses `rk`, so that
// a synchronous teardown can wait for it.
// kSendOffsets also takes `offsets` and `group` (a consumer's offsets and group metadata), which it owns and
// frees whatever happens.
Napi::Value RunTxnOp(Napi::Env env, Napi::Object keep_alive, rd_kafka_t* rk, TxnOp op, int timeout_ms,
                     std::atomic<int>* running, std::function<void()> done,
                     rd_kafka_topic_partition_list_t* offsets = nullptr, rd_kafka_consumer_group_metadata_t* group = nullptr);

}  // namespace kafka_fd
