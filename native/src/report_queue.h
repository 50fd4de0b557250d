#pragma once
// The producer's delivery reports, as its dr_msg_cb leaves them for JS (the callback runs while the main
// queue is served and only appends here). Dispatch copies them into the typed arrays JS allocated once.
#include <cstdint>
#include <deque>
#include <mutex>

namespace kafka_fd {

struct Report {
  double id;         // the message id JS gave to produce (0: nobody waits for this one)
  int32_t err;       // rd_kafka_resp_err_t
  int32_t partition;
  double offset;     // -1001 (RD_KAFKA_OFFSET_INVALID) when unknown; exact up to 2^53
  double timestamp;  // ms since the epoch, -1 when unknown
};

class ReportQueue {
 public:
  void Push(const Report& report) {
    std::lock_guard<std::mutex> lock(mutex_);
    reports_.push_back(report);
  }
  size_t Size() {
    std::lock_guard<std::mutex> lock(mutex_);
    return reports_.size();
  }
  // Moves up to `max` reports into the arrays JS reads from, returns how many.
  size_t Take(size_t max, double* ids, int32_t* errs, int32_t* partitions, double* offsets, double* timestamps) {
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

 private:
  std::mutex mutex_;
  std::deque<Report> reports_;
};

}  // namespace kafka_fd
