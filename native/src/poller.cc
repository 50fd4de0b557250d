#include "poller.h"

#include <algorithm>
#include <cstring>
#include <ctime>

namespace kafka_fd {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

uint64_t ThreadCpuNs() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {
// lib/poller checks the options (> 0 and <= 2^31-1 ms); saturate anyway, since a double past 2^64 ns
// converted to uint64_t is undefined behaviour.
uint64_t MsToNs(double ms) { return ms > 0 && ms < 1.8e13 ? static_cast<uint64_t>(ms * 1e6) : (ms > 0 ? 18000000000000000000ull : 0); }
// A target's first batch, before its JS cost per report is known.
constexpr size_t kProbeBatch = 16;
}  // namespace

PollerCore::PollerCore(Napi::Env env, PollerOptions options)
    : env_(env), state_(Addon::State(env)), options_(options) {
  napi_get_uv_event_loop(env, &loop_);
  state_->pollers.insert(this);
}

PollerCore::~PollerCore() {
  Release();
  state_->pollers.erase(this);
}

void PollerCore::EnsureHandles() {
  if (check_) return;
  uv_check_init(loop_, check_.Allocate());
  check_.Get()->data = this;
  uv_idle_init(loop_, idle_.Allocate());
  idle_.Get()->data = this;
  uv_timer_init(loop_, timer_.Allocate());
  timer_.Get()->data = this;
  // The safety timer must never keep the process alive: work in flight does that (see Ref).
  uv_unref(reinterpret_cast<uv_handle_t*>(timer_.Get()));
  uint64_t every = static_cast<uint64_t>(std::max(1.0, options_.poll_timeout_ms));
  uv_timer_start(
      timer_.Get(),
      [](uv_timer_t* t) {
        if (t->data != nullptr) static_cast<PollerCore*>(t->data)->OnTimer();
      },
      every, every);
}

void PollerCore::Release() {
  check_.Reset();
  idle_.Reset();
  timer_.Reset();
  ready_.clear();
  for (auto& r : registrations_) r->queued = false;
}

std::string PollerCore::Add(PollTarget* target, std::vector<rd_kafka_queue_t*> queues) {
  auto r = std::make_unique<Registration>();
  if (!r->fd.ok()) return std::string("eventfd failed: ") + strerror(errno);
  EnsureHandles();
  r->target = target;
  r->core = this;
  r->queues = std::move(queues);
  for (rd_kafka_queue_t* q : r->queues)
    rd_kafka_queue_io_event_enable(q, r->fd.fd(), EventFd::Payload(), EventFd::PayloadSize());
  uv_poll_t* poll = r->poll.Allocate();
  uv_poll_init(loop_, poll, r->fd.fd());
  poll->data = r.get();
  // Idle targets must not keep the loop alive; Ref() refs the handle while work is in flight.
  uv_unref(reinterpret_cast<uv_handle_t*>(poll));
  uv_poll_start(poll, UV_READABLE, [](uv_poll_t* handle, int status, int events) {
    auto* reg = static_cast<Registration*>(handle->data);
    if (reg == nullptr) return;
    // Read before serving: the other order loses a wake-up written between the last serve and the read.
    reg->fd.Drain();
    reg->core->metrics.wakeups++;
    reg->needs_serve = true;
    reg->core->Schedule(reg);
  });
  target->registration_ = r.get();
  r->needs_serve = true;
  Registration* added = r.get();
  registrations_.push_back(std::move(r));
  Schedule(added);
  return std::string();
}

void PollerCore::Remove(PollTarget* target) {
  Registration* r = target->registration_;
  if (r == nullptr) return;
  target->registration_ = nullptr;
  for (rd_kafka_queue_t* q : r->queues) rd_kafka_queue_io_event_enable(q, -1, nullptr, 0);
  ready_.erase(std::remove(ready_.begin(), ready_.end(), r), ready_.end());
  auto it = std::find_if(registrations_.begin(), registrations_.end(), [r](const auto& p) { return p.get() == r; });
  // Destroying the registration closes the poll handle (uv_close) and then the eventfd.
  if (it != registrations_.end()) registrations_.erase(it);
  // A poller with nobody to serve holds no handles; the next Add opens them again.
  if (registrations_.empty()) Release();
}

void PollerCore::Ref(PollTarget* target, bool ref) {
  Registration* r = target->registration_;
  if (r == nullptr || !r->poll) return;
  auto* h = reinterpret_cast<uv_handle_t*>(r->poll.Get());
  if (ref) uv_ref(h);
  else uv_unref(h);
}

void PollerCore::Schedule(PollTarget* target) {
  if (target->registration_ != nullptr) Schedule(target->registration_);
}

void PollerCore::Wake(PollTarget* target) {
  Registration* r = target->registration_;
  if (r == nullptr) return;
  r->needs_serve = true;
  Schedule(r);
}

void PollerCore::Schedule(Registration* r) {
  if (!check_) return;
  if (!r->queued) {
    r->queued = true;
    ready_.push_back(r);
  }
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(check_.Get()))) {
    uv_check_start(check_.Get(), [](uv_check_t* c) {
      if (c->data != nullptr) static_cast<PollerCore*>(c->data)->Pass();
    });
  }
  // Scheduled from outside the poll phase (a timer, an inline serve, a cut-short pass): an active idle
  // handle makes the coming poll phase return at once, so the check phase follows without waiting for I/O.
  if (!uv_is_active(reinterpret_cast<uv_handle_t*>(idle_.Get()))) {
    uv_idle_start(idle_.Get(), [](uv_idle_t*) {});
  }
}

bool PollerCore::Serve(Registration* r, uint64_t deadline_ns) {
  r->last_serve_ns = NowNs();
  metrics.serves++;
  PollTarget::Served served = r->target->ServeNative(deadline_ns);
  metrics.events += served.events;
  r->needs_serve = !served.done;
  return served.done;
}

void PollerCore::ServeInline(PollTarget* target) {
  Registration* r = target->registration_;
  if (r == nullptr) return;
  Serve(r, NowNs() + MsToNs(options_.max_time_ms));
  if (r->needs_serve || target->HasPending()) Schedule(r);
}

void PollerCore::AfterWork(uint32_t units) {
  if ((since_sweep_ += units) < kInlineSweepEvery || registrations_.size() < 2) return;
  since_sweep_ = 0;
  for (auto& r : registrations_) {
    if (r->target->HasQueuedEvents()) ServeInline(r->target);
  }
}

void PollerCore::DispatchWithin(Registration* r, uint64_t deadline_ns, bool first) {
  PollTarget* target = r->target;
  const size_t most = std::max<size_t>(1, options_.batch_size);
  // The first target of a pass always gets one batch, however late: a pass always makes progress.
  bool must = first;
  while (true) {
    const uint64_t now = NowNs();
    size_t max;
    if (r->ns_per_report > 0) {
      // Sized to the time left: a batch handed over near the end of the budget would otherwise run a whole
      // batch size past it (1,024 messages through an eachMessage handler take about 1.5 ms here).
      double fits = now < deadline_ns ? static_cast<double>(deadline_ns - now) / r->ns_per_report : 0;
      if (fits < 1) {
        if (!must) break;
        fits = 1;
      }
      max = std::min(most, static_cast<size_t>(fits));
    } else {
      // Cost not known yet (a producer with only log lines so far, a consumer with only events): small
      // batches, and none past the deadline, so that a burst of events is bounded per turn too.
      if (now >= deadline_ns && !must) break;
      max = std::min(most, kProbeBatch);
    }
    must = false;
    PollTarget::Dispatched d = target->Dispatch(max, &metrics);
    const uint64_t took = NowNs() - now;
    metrics.dispatch_ns += static_cast<double>(took);
    // Close() from a callback may have removed the registration: `r` is not to be touched then.
    if (target->registration_ != r) return;
    if (d.reports > 0) {
      double per = static_cast<double>(took) / static_cast<double>(d.reports);
      r->ns_per_report = r->ns_per_report > 0 ? 0.7 * r->ns_per_report + 0.3 * per : per;
    }
    if (!d.any) return;
  }
}

void PollerCore::Pass() {
  if (passing_) return;
  passing_ = true;
  // Keep this core alive even if a JS callback drops the last reference to it.
  auto self = shared_from_this();
  try {
    ServeReady();
  } catch (const Napi::Error&) {
    // Creating a JS value failed inside a dispatch: the environment is being torn down (a worker terminated)
    // and JS cannot run. Nothing catches a C++ exception in a libuv callback (it would abort the process);
    // the environment's cleanup hook closes the clients. What is left stays ready for a later pass.
  }
  passing_ = false;
  if (!check_) return;  // released from a callback
  if (ready_.empty()) {
    uv_check_stop(check_.Get());
    uv_idle_stop(idle_.Get());
  } else {
    metrics.turns_deferred++;
    uv_idle_start(idle_.Get(), [](uv_idle_t*) {});
  }
}

void PollerCore::ServeReady() {
  Napi::HandleScope scope(env_);
  const uint64_t start = NowNs();
  const uint64_t cpu_start = ThreadCpuNs();
  const uint64_t turn_deadline = start + MsToNs(options_.turn_budget_ms);
  const uint64_t max_serve = MsToNs(options_.max_time_ms);
  // Only the targets ready now; whatever becomes ready during the pass waits for the next turn.
  size_t count = ready_.size();
  bool first = true;
  for (size_t i = 0; i < count && !ready_.empty(); i++) {
    if (!first && NowNs() >= turn_deadline) break;
    Registration* r = ready_.front();
    ready_.pop_front();
    r->queued = false;
    PollTarget* target = r->target;
    if (r->needs_serve) {
      uint64_t t0 = NowNs();
      // The first target of a pass may use its whole maxTimeMs; the others also stop at the turn's budget.
      uint64_t deadline = first ? t0 + max_serve : std::min(t0 + max_serve, turn_deadline);
      if (!Serve(r, deadline)) metrics.cut_short++;
      metrics.serve_ns += static_cast<double>(NowNs() - t0);
    }
    DispatchWithin(r, turn_deadline, first);
    first = false;
    // Close() from a callback may have removed it: only a target still registered (the same registration)
    // goes back in the list.
    if (target->registration_ == r && (r->needs_serve || target->HasPending()) && !r->queued) {
      r->queued = true;
      ready_.push_back(r);
    }
  }
  const uint64_t took = NowNs() - start;
  metrics.passes++;
  metrics.pass_max_ns = std::max(metrics.pass_max_ns, static_cast<double>(took));
  metrics.pass_cpu_max_ns = std::max(metrics.pass_cpu_max_ns, static_cast<double>(ThreadCpuNs() - cpu_start));
  if (took > MsToNs(options_.turn_budget_ms)) metrics.over_budget++;
}

void PollerCore::OnTimer() {
  const uint64_t now = NowNs();
  const uint64_t stale = MsToNs(options_.poll_timeout_ms);
  for (auto& r : registrations_) {
    if (now - r->last_serve_ns >= stale) {
      r->needs_serve = true;
      metrics.safety_serves++;
      Schedule(r.get());
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

Napi::Function Poller::Init(Napi::Env env) {
  return DefineClass(env, "NativePoller",
                     {
                         InstanceMethod("metrics", &Poller::Metrics),
                         InstanceMethod("targetCount", &Poller::TargetCount),
                         InstanceMethod("hasHandles", &Poller::HasHandles),
                     });
}

Napi::Object Poller::Defaults(Napi::Env env) {
  PollerOptions d;
  Napi::Object o = Napi::Object::New(env);
  o.Set("maxTimeMs", d.max_time_ms);
  o.Set("pollTimeoutMs", d.poll_timeout_ms);
  o.Set("turnBudgetMs", d.turn_budget_ms);
  o.Set("batchSize", static_cast<double>(d.batch_size));
  return o;
}

Poller::Poller(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Poller>(info) {
  PollerOptions options;
  if (info.Length() > 0 && info[0].IsObject()) {
    Napi::Object o = info[0].As<Napi::Object>();
    auto num = [&](const char* key, double fallback) {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().DoubleValue() : fallback;
    };
    options.max_time_ms = num("maxTimeMs", options.max_time_ms);
    options.poll_timeout_ms = num("pollTimeoutMs", options.poll_timeout_ms);
    options.turn_budget_ms = num("turnBudgetMs", options.turn_budget_ms);
    options.batch_size = static_cast<size_t>(num("batchSize", static_cast<double>(options.batch_size)));
  }
  core_ = std::make_shared<PollerCore>(info.Env(), options);
}

Napi::Value Poller::Metrics(const Napi::CallbackInfo& info) {
  const PollerMetrics& m = core_->metrics;
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("wakeups", m.wakeups);
  o.Set("serves", m.serves);
  o.Set("events", m.events);
  o.Set("reports", m.reports);
  o.Set("batches", m.batches);
  o.Set("cutShort", m.cut_short);
  o.Set("turnsDeferred", m.turns_deferred);
  o.Set("safetyServes", m.safety_serves);
  o.Set("serveMs", m.serve_ns / 1e6);
  o.Set("dispatchMs", m.dispatch_ns / 1e6);
  o.Set("passes", m.passes);
  o.Set("passMaxMs", m.pass_max_ns / 1e6);
  o.Set("passMaxCpuMs", m.pass_cpu_max_ns / 1e6);
  o.Set("overBudget", m.over_budget);
  o.Set("producers", static_cast<double>(core_->target_count()));  // every target: producers only, so far
  return o;
}

Napi::Value Poller::TargetCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(core_->target_count()));
}

Napi::Value Poller::HasHandles(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_->has_handles());
}

}  // namespace kafka_fd
