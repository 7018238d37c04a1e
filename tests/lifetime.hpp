// tests/lifetime.hpp: an object that counts its constructions and destructions, to prove
// that frames and results are destroyed exactly once.
#pragma once

struct lifetime_counter {
  int constructed = 0;
  int destroyed = 0;
  int alive() const { return constructed - destroyed; }
};

class tracked {
 public:
  explicit tracked(lifetime_counter& counter) : counter_(&counter) { ++counter_->constructed; }
  tracked(const tracked& other) : counter_(other.counter_) { ++counter_->constructed; }
  tracked(tracked&& other) noexcept : counter_(other.counter_) { ++counter_->constructed; }
  tracked& operator=(const tracked&) = default;
  ~tracked() { ++counter_->destroyed; }

 private:
  lifetime_counter* counter_;
};
