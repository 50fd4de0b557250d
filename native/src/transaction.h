#pragma once
// librdkafka's transaction calls (init, begin, commit, abort) wait for the transaction coordinator: they
// run on the libuv threadpool, never on the JS thread, while the poller keeps serving every producer.
// Their errors become KafkaFdErrors with `retriable`, `fatal` and `txnRequiresAbort` as librdkafka says.
#include <librdkafka/rdkafka.h>
#include <napi.h>

#include <atomic>
#include <functional>

namespace kafka_fd {

enum class TxnOp { kInit = 0, kBegin = 1, kCommit = 2, kAbort = 3 };

// Runs `op` on `rk` off the JS thread; the promise settles on the JS thread, after `done` ran there.
// `keep_alive` (the JS producer) is held until then; `running` counts the call while it uses `rk`, so that
// a synchronous teardown can wait for it.
Napi::Value RunTxnOp(Napi::Env env, Napi::Object keep_alive, rd_kafka_t* rk, TxnOp op, int timeout_ms,
                     std::atomic<int>* running, std::function<void()> done);

}  // namespace kafka_fd
