#pragma once
// What librdkafka's callbacks leave for JS. The callbacks run inside rd_kafka_poll (on the JS thread in fd
// mode, on the producer's own thread in thread mode) and only append here; JS is called after the serve,
// with up to a batch of reports at a time, never from inside a callback.
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace kafka_fd {

struct Report {
  double id;         // the message id JS gave to produce (0: nobody waits for this one)
  int32_t err;       // rd_kafka_resp_err_t
  int32_t partition;
  double offset;     // -1001 (RD_KAFKA_OFFSET_INVALID) when unknown; exact up to 2^53
  double timestamp;  // ms since the epoch, -1 when unknown
};

struct Event {
  enum Kind { kError = 0, kStats = 1, kLog = 2 };
  explicit Event(Kind k) : kind(k) {}
  Kind kind;
  int code = 0;       // error: rd_kafka_resp_err_t; log: syslog level
  bool fatal = false;
  std::string name;   // error: librdkafka's error name; log: facility
  std::string text;   // error: reason; stats: the JSON; log: the line
};

class ReportQueue {
 public:
  void PushReport(const Report& report) {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_.push_back(report);
  }
  void PushEvent(Event event) {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.push_back(std::move(event));
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reports_.size() + events_.size();
  }
  // Moves up to `max` reports into the arrays JS reads from, returns how many.
  size_t TakeReports(size_t max, double* ids, int32_t* errs, int32_t* partitions, double* offsets,
                     double* timestamps) {
    std::lock_guard<std::mutex> lock(mutex_);
    size_t n = reports_.size() < max ? reports_.size() : max;
    for (size_t i = 0; i < n; i++) {
      const Report& r = reports_[i];
      ids[i] = r.id;
      errs[i] = r.err;
      partitions[i] = r.partition;
      offsets[i] = r.offset;
      timestamps[i] = r.timestamp;
    }
    reports_.erase(reports_.begin(), reports_.begin() + static_cast<std::ptrdiff_t>(n));
    return n;
  }
  // Up to `max` events, oldest first: a burst of log lines (debug) is handed over a batch at a time too.
  std::vector<Event> TakeEvents(size_t max) {
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
  void DropEvents() {
    std::lock_guard<std::mutex> lock(mutex_);
    events_.clear();
  }

 private:
  std::mutex mutex_;
  std::deque<Report> reports_;
  std::deque<Event> events_;
};

}  // namespace kafka_fd
