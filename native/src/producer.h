#pragma once
// NativeProducer: owns one rd_kafka_t. Its main queue is served either by a PollerCore on the event loop
// (fd mode: an eventfd that librdkafka writes to, watched with uv_poll) or by a thread of its own (thread
// mode, the baseline). Either way the callbacks only append to `queue_`, and Dispatch() hands JS the
// reports in batches through typed arrays that JS allocated once.
#include <librdkafka/rdkafka.h>
#include <napi.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "addon.h"
#include "report_queue.h"
#include "util/event_fd.h"
#include "util/uv_handle.h"

namespace kafka_fd {

class PollerCore;
class PollThread;

class Producer : public Napi::ObjectWrap<Producer>, public Closable {
 public:
  static Napi::Function Init(Napi::Env env);

  // new NativeProducer(config: string[] (key, value, ...), sink: { onBatch, onEvent, ids, errs,
  //                    partitions, offsets, timestamps })
  explicit Producer(const Napi::CallbackInfo& info);
  ~Producer() override;

  // --- used by PollerCore (fd mode) ---
  void OnReadable();                       // uv_poll said the eventfd is readable
  bool ServeNative(uint64_t deadline_ns);  // rd_kafka_poll(rk, 0) until 0 or the deadline; false: cut short
  // Hands JS up to `max` reports (and every queued event); returns how many reports went.
  size_t Dispatch(size_t max);
  bool HasPending() { return queue_.Size() > 0; }
  bool HasQueuedEvents();  // librdkafka's main queue is not empty
  void DestroyTopics();    // before rd_kafka_destroy
  void ServeInline();      // serve natively now, from inside a produce call; JS gets the batch later
  bool needs_serve = false;  // the eventfd fired, or the last serve was cut short
  bool queued = false;       // in the poller's ready list
  uint64_t last_serve_ns = 0;

  // --- librdkafka callbacks (any thread that polls) ---
  void OnDelivery(const rd_kafka_message_t* message);
  void OnError(int err, const char* reason);
  void OnStats(const char* json, size_t len);
  void OnLog(int level, const char* fac, const char* buf);

  // Synchronous teardown for environment cleanup and finalizers: detach, purge, destroy.
  void CloseNow() override;

 private:
  friend class CloseWorker;

  Napi::Value Attach(const Napi::CallbackInfo& info);  // (poller) for fd mode, () for thread mode
  Napi::Value Produce(const Napi::CallbackInfo& info);
  Napi::Value ProduceBatch(const Napi::CallbackInfo& info);
  Napi::Value OutqLen(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value Name(const Napi::CallbackInfo& info);
  Napi::Value TestFatalError(const Napi::CallbackInfo& info);  // (code, reason): tests only
  Napi::Value DispatchPending(const Napi::CallbackInfo& info);
  Napi::Value Txn(const Napi::CallbackInfo& info);  // (op: 0 init, 1 begin, 2 commit, 3 abort, timeoutMs)

  // Queues one message; returns librdkafka's error (0 when accepted).
  rd_kafka_resp_err_t ProduceOne(Napi::Env env, const Napi::Value& topic, int32_t partition,
                                 const Napi::Value& value, const Napi::Value& key, const Napi::Value& headers,
                                 int64_t timestamp, double id);
  void AfterProduce();
  rd_kafka_topic_t* TopicFor(Napi::Env env, const Napi::Value& topic);  // cached topic handles
  void Detach();           // stop the poller's watch or the thread, disable io events, close the fd
  void UpdateKeepAlive();  // keep the loop and this object alive exactly while messages are in flight
  void DispatchFromThread();

  std::shared_ptr<EnvState> state_;
  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* main_queue_ = nullptr;
  ReportQueue queue_;
  std::unordered_map<std::string, rd_kafka_topic_t*> topics_;
  rd_kafka_topic_t* last_topic_ = nullptr;
  std::string last_topic_name_;

  // Where Dispatch writes; the typed arrays live in JS. Weak references while nothing is in flight (see the
  // constructor): Dispatch checks that the sink is still there before it writes.
  Napi::ObjectReference sink_;
  Napi::FunctionReference on_batch_;
  Napi::FunctionReference on_event_;
  std::unique_ptr<Napi::AsyncContext> async_context_;
  double* ids_ = nullptr;
  int32_t* errs_ = nullptr;
  int32_t* partitions_ = nullptr;
  double* offsets_ = nullptr;
  double* timestamps_ = nullptr;
  size_t capacity_ = 0;

  // fd mode
  std::shared_ptr<PollerCore> poller_;
  std::unique_ptr<EventFd> event_fd_;
  UvHandle<uv_poll_t> poll_;
  // thread mode
  std::unique_ptr<PollThread> thread_;

  static constexpr uint32_t kInlineServeEvery = 64;  // a power of two
  static constexpr int kThreadBatchesPerCall = 8;     // thread mode: batches handed to JS per loop turn
  uint32_t produced_since_serve_ = 0;
  int64_t in_flight_ = 0;  // accepted by produce, report not yet handed to JS
  bool alive_ = false;     // the loop and this object are held
  bool closing_ = false;
  bool destroyed_ = false;
  std::atomic<int> txn_running_{0};  // transaction calls on the threadpool using rk_
};

}  // namespace kafka_fd
