#include "transaction.h"

#include <string>

#include "kafka_error.h"
#include "util/js_call.h"

namespace kafka_fd {

namespace {

const char* OpName(TxnOp op) {
  switch (op) {
    case TxnOp::kInit: return "init_transactions";
    case TxnOp::kBegin: return "begin_transaction";
    case TxnOp::kCommit: return "commit_transaction";
    case TxnOp::kAbort: return "abort_transaction";
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

class TxnWorker : public Napi::AsyncWorker {
 public:
  TxnWorker(Napi::Env env, Napi::Object keep_alive, rd_kafka_t* rk, TxnOp op, int timeout_ms,
            std::atomic<int>* running, std::function<void()> done)
      : Napi::AsyncWorker(env, "kafka-fd-transaction"),
        keep_alive_(Napi::Persistent(keep_alive)),
        promise_(env),
        rk_(rk),
        op_(op),
        timeout_ms_(timeout_ms),
        running_(running),
        done_(std::move(done)) {
    running_->fetch_add(1);
  }

  ~TxnWorker() override {
    if (error_ != nullptr) rd_kafka_error_destroy(error_);
  }

  Napi::Value Promise() { return Napi::Value(Env(), promise_.promise()); }

  void Execute() override {
    switch (op_) {
      case TxnOp::kInit: error_ = rd_kafka_init_transactions(rk_, timeout_ms_); break;
      case TxnOp::kBegin: error_ = rd_kafka_begin_transaction(rk_); break;
      // Commit flushes first: delivery reports may then be served on this thread; the callbacks only
      // append to the producer's report queue, which is thread-safe, and the poller hands them to JS.
      case TxnOp::kCommit: error_ = rd_kafka_commit_transaction(rk_, timeout_ms_); break;
      case TxnOp::kAbort: error_ = rd_kafka_abort_transaction(rk_, timeout_ms_); break;
    }
    running_->fetch_sub(1);
  }

  void OnOK() override {
    Napi::HandleScope scope(Env());
    done_();
    if (error_ == nullptr) {
      promise_.Resolve();
    } else {
      // Building the error runs JS (the KafkaFdError class): when the environment is going away that
      // throws, and node-addon-api's completion wrapper swallows it; nobody is left to be told.
      promise_.Reject(TxnError(Env(), error_, OpName(op_)).Value());
    }
  }

 private:
  Napi::ObjectReference keep_alive_;
  JsPromise promise_;
  rd_kafka_t* rk_;
  TxnOp op_;
  int timeout_ms_;
  std::atomic<int>* running_;
  std::function<void()> done_;
  rd_kafka_error_t* error_ = nullptr;
};

}  // namespace


Napi::Promise RunTxnOp(Napi::Env env, Napi::Object keep_alive, rd_kafka_t* rk, TxnOp op, int timeout_ms,
                       std::atomic<int>* running, std::function<void()> done) {
  auto* worker = new TxnWorker(env, keep_alive, rk, op, timeout_ms, running, std::move(done));
  Napi::Value promise = worker->Promise();
  worker->Queue();
  return promise.As<Napi::Promise>();
}

}  // namespace kafka_fd
