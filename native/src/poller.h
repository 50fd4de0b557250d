#pragma once
// The fd poller. PollerCore serves the producers registered with it, all on the event loop:
//  - each producer's eventfd has a uv_poll_t; readable -> read it empty, mark the producer ready;
//  - a uv_check_t runs one pass per loop turn over the ready producers: rd_kafka_poll(rk, 0) until empty or
//    the producer's maxTimeMs, then hand JS batches of at most batchSize reports, all within one budget
//    shared by the pass (turnBudgetMs). What is left (a serve cut short, reports not yet handed over) stays
//    ready, and a uv_idle_t keeps the next poll phase from blocking so it runs on the next turn;
//  - an unref'd uv_timer_t serves every producer whose last serve is older than pollTimeoutMs.
// NativePoller is its JS face. The core is shared with the producers so that either may be collected first.
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "addon.h"
#include "util/uv_handle.h"

namespace kafka_fd {

class Producer;

struct PollerOptions {
  double max_time_ms = 100;     // one producer's native serve, per wake-up
  double poll_timeout_ms = 1000;  // safety serve for producers not served for this long
  double turn_budget_ms = 10;   // native serves plus JS dispatch, for all producers, per loop turn
  size_t batch_size = 1024;     // reports per JS call
};

struct PollerMetrics {
  double wakeups = 0;        // the eventfd was readable
  double serves = 0;         // serves of a producer's queue
  double events = 0;         // events librdkafka served (one per delivery-report batch, stats, log, ...)
  double reports = 0;        // delivery reports handed to JS
  double batches = 0;        // JS calls that carried them
  double cut_short = 0;      // serves stopped by maxTimeMs or the turn budget with more to do
  double turns_deferred = 0; // passes that left work for the next loop turn
  double safety_serves = 0;  // serves started by the safety timer
  double serve_ns = 0;       // time in rd_kafka_poll
  double dispatch_ns = 0;    // time handing batches to JS (includes the JS callbacks)
};

uint64_t NowNs();

class PollerCore : public std::enable_shared_from_this<PollerCore> {
 public:
  PollerCore(Napi::Env env, PollerOptions options);
  ~PollerCore();

  // Watches the fd and serves the producer once at once (events queued before enabling do not wait).
  void Add(Producer* producer, uv_poll_t* poll, int fd);
  void Remove(Producer* producer);
  void Schedule(Producer* producer);  // mark ready; served in the check phase of this or the next turn
  void Release();                     // close every handle (no producers left, or environment teardown)
  // Called after every accepted message: every kInlineSweepEvery messages, serve natively every producer of
  // this poller whose queue is not empty (a long synchronous loop over many producers).
  void AfterProduce();

  const PollerOptions& options() const { return options_; }
  PollerMetrics metrics;
  size_t producer_count() const { return producers_.size(); }
  bool has_handles() const { return static_cast<bool>(check_); }

 private:
  void EnsureHandles();
  void Pass();
  void OnTimer();

  Napi::Env env_;
  std::shared_ptr<EnvState> state_;
  uv_loop_t* loop_ = nullptr;
  PollerOptions options_;
  std::vector<Producer*> producers_;
  std::deque<Producer*> ready_;
  UvHandle<uv_check_t> check_;
  UvHandle<uv_idle_t> idle_;
  UvHandle<uv_timer_t> timer_;
  bool passing_ = false;
  uint32_t produced_since_sweep_ = 0;
  static constexpr uint32_t kInlineSweepEvery = 512;
};

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Init(Napi::Env env);
  // new NativePoller({ maxTimeMs, pollTimeoutMs, turnBudgetMs, batchSize })
  explicit Poller(const Napi::CallbackInfo& info);
  std::shared_ptr<PollerCore> core() const { return core_; }

 private:
  Napi::Value Metrics(const Napi::CallbackInfo& info);
  Napi::Value ProducerCount(const Napi::CallbackInfo& info);
  Napi::Value HasHandles(const Napi::CallbackInfo& info);
  std::shared_ptr<PollerCore> core_;
};

}  // namespace kafka_fd
