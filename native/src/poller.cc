#include "poller.h"

#include <algorithm>
#include <ctime>

#include "producer.h"

namespace kafka_fd {

uint64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

namespace {
// lib/poller checks the options (> 0 and <= 2^31-1 ms); saturate anyway, since a double past 2^64 ns
// converted to uint64_t is undefined behaviour.
uint64_t MsToNs(double ms) { return ms > 0 && ms < 1.8e13 ? static_cast<uint64_t>(ms * 1e6) : (ms > 0 ? 18000000000000000000ull : 0); }
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
  // The safety timer must never keep the process alive: in-flight messages do that (see Producer).
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
}

void PollerCore::Add(Producer* producer, uv_poll_t* poll, int fd) {
  EnsureHandles();
  producers_.push_back(producer);
  uv_poll_init(loop_, poll, fd);
  poll->data = producer;
  // Idle producers must not keep the loop alive; Producer::UpdateKeepAlive refs the handle while messages
  // are in flight.
  uv_unref(reinterpret_cast<uv_handle_t*>(poll));
  uv_poll_start(poll, UV_READABLE, [](uv_poll_t* handle, int status, int events) {
    if (handle->data != nullptr) static_cast<Producer*>(handle->data)->OnReadable();
  });
  producer->needs_serve = true;
  Schedule(producer);
}

void PollerCore::Remove(Producer* producer) {
  producers_.erase(std::remove(producers_.begin(), producers_.end(), producer), producers_.end());
  ready_.erase(std::remove(ready_.begin(), ready_.end(), producer), ready_.end());
  producer->queued = false;
  // A poller with nobody to serve holds no handles; the next Add opens them again.
  if (producers_.empty()) Release();
}

void PollerCore::Schedule(Producer* producer) {
  if (!check_) return;
  if (!producer->queued) {
    producer->queued = true;
    ready_.push_back(producer);
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

void PollerCore::Pass() {
  if (passing_) return;
  passing_ = true;
  // Keep this core alive even if a JS callback drops the last reference to it.
  auto self = shared_from_this();
  Napi::HandleScope scope(env_);
  const uint64_t start = NowNs();
  const uint64_t turn_deadline = start + MsToNs(options_.turn_budget_ms);
  const uint64_t max_serve = MsToNs(options_.max_time_ms);
  // Only the producers ready now; whatever becomes ready during the pass waits for the next turn.
  size_t count = ready_.size();
  bool first = true;
  for (size_t i = 0; i < count && !ready_.empty(); i++) {
    if (!first && NowNs() >= turn_deadline) break;
    Producer* p = ready_.front();
    ready_.pop_front();
    p->queued = false;
    if (p->needs_serve) {
      uint64_t t0 = NowNs();
      // The first producer of a pass may use its whole maxTimeMs; the others also stop at the turn's budget.
      uint64_t deadline = first ? t0 + max_serve : std::min(t0 + max_serve, turn_deadline);
      if (!p->ServeNative(deadline)) metrics.cut_short++;
      metrics.serve_ns += static_cast<double>(NowNs() - t0);
    }
    // Hand JS batches while the turn's budget lasts; the first producer of a pass always gets one, so a
    // pass always makes progress.
    uint64_t t1 = NowNs();
    do {
      if (p->Dispatch(options_.batch_size) == 0) break;
    } while (NowNs() < turn_deadline);
    metrics.dispatch_ns += static_cast<double>(NowNs() - t1);
    first = false;
    // Close() from a callback may have removed it; only still-registered producers go back in the list.
    bool registered = std::find(producers_.begin(), producers_.end(), p) != producers_.end();
    if (registered && (p->needs_serve || p->HasPending()) && !p->queued) {
      p->queued = true;
      ready_.push_back(p);
    }
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

void PollerCore::AfterProduce() {
  if (++produced_since_sweep_ < kInlineSweepEvery || producers_.size() < 2) return;
  produced_since_sweep_ = 0;
  for (Producer* p : producers_) {
    if (p->HasQueuedEvents()) p->ServeInline();
  }
}

void PollerCore::OnTimer() {
  const uint64_t now = NowNs();
  const uint64_t stale = MsToNs(options_.poll_timeout_ms);
  for (Producer* p : producers_) {
    if (now - p->last_serve_ns >= stale) {
      p->needs_serve = true;
      metrics.safety_serves++;
      Schedule(p);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------

Napi::Function Poller::Init(Napi::Env env) {
  return DefineClass(env, "NativePoller",
                     {
                         InstanceMethod("metrics", &Poller::Metrics),
                         InstanceMethod("producerCount", &Poller::ProducerCount),
                         InstanceMethod("hasHandles", &Poller::HasHandles),
                     });
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
  o.Set("producers", static_cast<double>(core_->producer_count()));
  return o;
}

Napi::Value Poller::ProducerCount(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(core_->producer_count()));
}

Napi::Value Poller::HasHandles(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), core_->has_handles());
}

}  // namespace kafka_fd
