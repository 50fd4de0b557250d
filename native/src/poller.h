#pragma once
// The fd poller. PollerCore serves the targets registered with it (producers, consumers: PollTarget), all
// on the event loop:
//  - each target's eventfd has a uv_poll_t; readable -> read it empty, mark the target ready;
//  - a uv_check_t runs one pass per loop turn over the ready targets: serve natively until empty or the
//    target's maxTimeMs, then hand JS batches of at most batchSize, all within one budget shared by the pass
//    (turnBudgetMs). What is left (a serve cut short, a batch not yet handed over) stays ready, and a
//    uv_idle_t keeps the next poll phase from blocking so it runs on the next turn;
//  - an unref'd uv_timer_t serves every target whose last serve is older than pollTimeoutMs.
// NativePoller is its JS face. The core is shared with the targets so that either may be collected first.
#include <librdkafka/rdkafka.h>
#include <napi.h>
#include <uv.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "addon.h"
#include "poll_target.h"
#include "util/event_fd.h"
#include "util/uv_handle.h"

namespace kafka_fd {

struct PollerOptions {
  double max_time_ms = 100;       // one target's native serve, per wake-up
  double poll_timeout_ms = 1000;  // safety serve for targets not served for this long
  double turn_budget_ms = 10;     // native serves plus JS dispatch, for all targets, per loop turn
  size_t batch_size = 1024;       // reports per JS call
};

struct PollerMetrics {
  double wakeups = 0;        // an eventfd was readable
  double serves = 0;         // serves of a target's queues
  double events = 0;         // events librdkafka served (one per delivery-report batch, stats, log, ...)
  double reports = 0;        // reports handed to JS
  double batches = 0;        // JS calls that carried them
  double cut_short = 0;      // serves stopped by maxTimeMs or the turn budget with more to do
  double turns_deferred = 0; // passes that left work for the next loop turn
  double safety_serves = 0;  // serves started by the safety timer
  double serve_ns = 0;       // time serving natively
  double dispatch_ns = 0;    // time handing batches to JS (includes the JS callbacks)
  double passes = 0;         // passes of the check phase (at most one per loop turn)
  double pass_max_ns = 0;    // the longest pass, wall time
  double pass_cpu_max_ns = 0;  // the most CPU time the JS thread spent in one pass (waits for locks and
                               // preemption excluded: the part of a pass that batch sizing controls)
  double over_budget = 0;    // passes that ran past turnBudgetMs
};

uint64_t NowNs();
uint64_t ThreadCpuNs();  // CPU time of the calling thread

// A batch of `reports` about to go to JS (PollTarget::Dispatch).
inline void CountBatch(PollerMetrics* metrics, size_t reports) {
  if (metrics == nullptr || reports == 0) return;
  metrics->reports += static_cast<double>(reports);
  metrics->batches++;
}

// A target's registration: everything the poller keeps per target.
class PollerCore;

struct Registration {
  PollTarget* target = nullptr;
  PollerCore* core = nullptr;
  EventFd fd;
  UvHandle<uv_poll_t> poll;
  std::vector<rd_kafka_queue_t*> queues;  // io events enabled on each, all writing to `fd`
  bool needs_serve = false;               // the eventfd fired, or the last serve was cut short
  bool queued = false;                    // in the ready list
  uint64_t last_serve_ns = 0;
  // What one report (a delivery report, a message) costs JS in this target's dispatches, handlers' microtasks
  // included: a moving average, so that a batch is sized to the time left in the turn (0: not measured yet).
  double ns_per_report = 0;
};

class PollerCore : public std::enable_shared_from_this<PollerCore> {
 public:
  PollerCore(Napi::Env env, PollerOptions options);
  ~PollerCore();

  // Watches `queues` through one eventfd and serves the target once at once (events queued before enabling
  // do not wait). Returns an error message, empty on success.
  std::string Add(PollTarget* target, std::vector<rd_kafka_queue_t*> queues);
  // Disables io events (before the eventfd closes: librdkafka must not write into a closed or reused fd),
  // closes the handle and the fd.
  void Remove(PollTarget* target);
  void Schedule(PollTarget* target);  // mark ready; served in the check phase of this or the next turn
  // Serve the target's queues on this or the next turn even though its fd did not fire: a target that
  // stopped serving on its own (no credit) has events waiting that will not wake the fd again.
  void Wake(PollTarget* target);
  void Ref(PollTarget* target, bool ref);  // keep the loop alive for this target (work in flight)
  // Serves a target natively now, from inside a JS call (a produce loop that does not yield); JS gets what
  // it produced on a later turn.
  void ServeInline(PollTarget* target);
  // Called after every unit of inline work (an accepted message): every kInlineSweepEvery, serve natively
  // every target of this poller whose queues are not empty (a long synchronous loop over many producers).
  void AfterWork(uint32_t units = 1);
  void Release();  // close every handle (no targets left, or environment teardown)

  const PollerOptions& options() const { return options_; }
  PollerMetrics metrics;
  size_t target_count() const { return registrations_.size(); }
  bool has_handles() const { return static_cast<bool>(check_); }

 private:
  void EnsureHandles();
  void Schedule(Registration* r);
  bool Serve(Registration* r, uint64_t deadline_ns);
  // Hands the target's batches to JS, each sized to what the time left before `deadline_ns` pays for.
  void DispatchWithin(Registration* r, uint64_t deadline_ns, bool first);
  void Pass();        // the check phase's pass: ServeReady, then whether the next turn needs one
  void ServeReady();  // serves and dispatches the targets ready now, within the turn's budget
  void OnTimer();

  Napi::Env env_;
  std::shared_ptr<EnvState> state_;
  uv_loop_t* loop_ = nullptr;
  PollerOptions options_;
  std::vector<std::unique_ptr<Registration>> registrations_;
  std::deque<Registration*> ready_;
  UvHandle<uv_check_t> check_;
  UvHandle<uv_idle_t> idle_;
  UvHandle<uv_timer_t> timer_;
  bool passing_ = false;
  uint32_t since_sweep_ = 0;
  static constexpr uint32_t kInlineSweepEvery = 512;
};

class Poller : public Napi::ObjectWrap<Poller> {
 public:
  static Napi::Function Init(Napi::Env env);
  // new NativePoller({ maxTimeMs, pollTimeoutMs, turnBudgetMs, batchSize })
  explicit Poller(const Napi::CallbackInfo& info);
  std::shared_ptr<PollerCore> core() const { return core_; }
  static Napi::Object Defaults(Napi::Env env);  // the option defaults, for lib/poller

 private:
  Napi::Value Metrics(const Napi::CallbackInfo& info);
  Napi::Value TargetCount(const Napi::CallbackInfo& info);
  Napi::Value HasHandles(const Napi::CallbackInfo& info);
  std::shared_ptr<PollerCore> core_;
};

}  // namespace kafka_fd
