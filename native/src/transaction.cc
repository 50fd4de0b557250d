#include "transaction.h"

#include <memory>
#include <string>

#include "kafka_error.h"
#include "util/promise_worker.h"

namespace kafka_fd {

namespace {

const char* OpName(TxnOp op) {
  switch (op) {
    case TxnOp::kInit: return "init_transactions";
    case TxnOp::kBegin: return "begin_transaction";
    case TxnOp::kCommit: return "commit_transaction";
    case TxnOp::kAbort: return "abort_transaction";
    case TxnOp::kSendOffsets: return "send_offsets_to_transaction";
  }
  return "transaction";
}

// A KafkaFdError from an rd_kafka_error_t (which it does not destroy).
Napi::Error TxnError(Napi::Env env, const rd_kafka_error_t* error, const char* what) {
  Napi::Error e = KafkaError(env, rd_kafka_error_code(error),
                             std::string(what) + ": " + rd_kafka_error_string(error),
                             rd_kafka_error_is_fatal(error) != 0);
  // librdkafka knows best whether this call may be retried: it overrides the JS class's list.
  e.Set("retriable", Napi::Boolean::New(env, rd_kafka_error_is_retriable(error) != 0));
  e.Set("txnRequiresAbort", Napi::Boolean::New(env, rd_kafka_error_txn_requires_abort(error) != 0));
  return e;
}

}  // namespace


Napi::Value RunTxnOp(Napi::Env env, Napi::Object keep_alive, rd_kafka_t* rk, TxnOp op, int timeout_ms,
                     std::atomic<int>* running, std::function<void()> done,
                     rd_kafka_topic_partition_list_t* offsets, rd_kafka_consumer_group_metadata_t* group) {
  // The work writes the error on the threadpool, the completion reads it; the slot frees it, and the
  // offsets and group metadata, whatever happens (a completion that never runs at teardown included).
  struct ErrorSlot {
    rd_kafka_error_t* e = nullptr;
    rd_kafka_topic_partition_list_t* offsets = nullptr;
    rd_kafka_consumer_group_metadata_t* group = nullptr;
    ~ErrorSlot() {
      if (e != nullptr) rd_kafka_error_destroy(e);
      if (offsets != nullptr) rd_kafka_topic_partition_list_destroy(offsets);
      if (group != nullptr) rd_kafka_consumer_group_metadata_destroy(group);
    }
  };
  auto slot = std::make_shared<ErrorSlot>();
  slot->offsets = offsets;
  slot->group = group;
  running->fetch_add(1);
  return QueuePromiseWork(
      env, "kafka-fd-transaction",
      [rk, op, timeout_ms, running, slot] {
        rd_kafka_error_t** error = &slot->e;
        switch (op) {
          case TxnOp::kInit: *error = rd_kafka_init_transactions(rk, timeout_ms); break;
          case TxnOp::kBegin: *error = rd_kafka_begin_transaction(rk); break;
          // Commit flushes first: delivery reports may then be served on this thread; the callbacks only
          // append to the producer's report queue, which is thread-safe, and the poller hands them to JS.
          case TxnOp::kCommit: *error = rd_kafka_commit_transaction(rk, timeout_ms); break;
          case TxnOp::kAbort: *error = rd_kafka_abort_transaction(rk, timeout_ms); break;
          case TxnOp::kSendOffsets:
            *error = rd_kafka_send_offsets_to_transaction(rk, slot->offsets, slot->group, timeout_ms);
            break;
        }
        running->fetch_sub(1);
      },
      [op, slot, done = std::move(done)](Napi::Env env, JsPromise& promise) {
        done();
        if (slot->e == nullptr) promise.Resolve();
        else promise.Reject(TxnError(env, slot->e, OpName(op)).Value());
      },
      keep_alive);
}

}  // namespace kafka_fd
