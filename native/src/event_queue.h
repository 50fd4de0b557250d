#pragma once
// What librdkafka's error, statistics and log callbacks leave for JS, for any kind of client. The callbacks
// run while a queue is served (on the JS thread in fd mode, on a poll thread in thread mode, on the
// threadpool during a close) and only append here; JS gets the events after the serve, a batch at a time.
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace kafka_fd {

struct Event {
  enum Kind { kError = 0, kStats = 1, kLog = 2 };
  explicit Event(Kind k) : kind(k) {}
  Kind kind;
  int code = 0;       // error: rd_kafka_resp_err_t; log: syslog level
  bool fatal = false;
  std::string name;   // error: librdkafka's error name; log: facility
  std::string text;   // error: reason; stats: the JSON; log: the line
};

class EventQueue {
 public:
  void Push(Event event) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(event));
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return events_.size();
  }
  // Up to `max` events, oldest first: a burst of log lines (debug) is handed over a batch at a time too.
  std::vector<Event> Take(size_t max) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t n = events_.size() < max ? events_.size() : max;
    std::vector<Event> out;
    out.reserve(n);
    for (size_t i = 0; i < n; i++) {
      out.push_back(std::move(events_.front()));
      events_.pop_front();
    }
    return out;
  }
  void Clear() {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.clear();
  }

 private:
  std::mutex mutex_;
  std::deque<Event> events_;
};

}  // namespace kafka_fd
