#pragma once
// The fd librdkafka writes to when its queue goes from empty to non-empty: an eventfd, non-blocking and
// close-on-exec. An eventfd takes 8-byte writes only, so the payload librdkafka writes is a uint64_t 1.
#include <errno.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace kafka_fd {

class EventFd {
 public:
  EventFd() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}
  EventFd(const EventFd&) = delete;
  EventFd& operator=(const EventFd&) = delete;
  ~EventFd() { Close(); }

  int fd() const { return fd_; }
  bool ok() const { return fd_ >= 0; }
  static const void* Payload() { return &kOne; }
  static size_t PayloadSize() { return sizeof(kOne); }

  // Reads until EAGAIN. Must run before the queue is served: the other order loses a wake-up that lands
  // between the last serve and the read.
  void Drain() const {
    uint64_t value;
    while (true) {
      ssize_t n = read(fd_, &value, sizeof(value));
      if (n > 0) continue;
      if (n < 0 && errno == EINTR) continue;
      return;
    }
  }

  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  static constexpr uint64_t kOne = 1;
  int fd_;
};

}  // namespace kafka_fd
