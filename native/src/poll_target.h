#pragma once
// What a PollerCore serves: a client whose librdkafka queues signal an eventfd when they go from empty to
// non-empty. The poller owns the registration (the eventfd, its uv_poll_t, enabling and disabling io events,
// readiness, the safety serve, the metrics); a target only knows how to serve its queues without blocking and
// how to hand JS what that produced. A producer is one kind of target; a consumer is another.
#include <cstddef>

#include <cstdint>

namespace kafka_fd {

struct Registration;
struct PollerMetrics;

class PollTarget {
 public:
  struct Served {
    double events = 0;  // events librdkafka served
    bool done = true;   // false: the deadline came first, more to serve
  };
  struct Dispatched {
    size_t reports = 0;  // delivery reports (or messages) handed to JS
    bool any = false;    // anything at all went to JS (events count); false: nothing left, or JS is gone
  };

  virtual ~PollTarget() = default;
  // Serves the queues without blocking until they are empty or `deadline_ns` (NowNs()) has passed. The
  // callbacks it runs only queue things natively: no JS runs inside it.
  virtual Served ServeNative(uint64_t deadline_ns) = 0;
  // Hands JS up to `max` reports and up to `max` events. A batch is counted in `metrics` (when given)
  // before JS runs: JS may read the poller's metrics as soon as its promises settle.
  virtual Dispatched Dispatch(size_t max, PollerMetrics* metrics) = 0;
  // Something is queued natively for JS.
  virtual bool HasPending() = 0;
  // librdkafka has something queued to serve (a cheap check: one mutex, no syscall).
  virtual bool HasQueuedEvents() = 0;

 private:
  friend class PollerCore;
  Registration* registration_ = nullptr;  // set while registered with a poller
};

}  // namespace kafka_fd
