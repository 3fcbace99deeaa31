// A growable ring of T (push_back / pop_front / index): the engine's
// per-QP queues of outstanding WQEs and responder resources, without an
// allocation per element.
#pragma once

#include <cstddef>
#include <vector>

namespace hcasim::device {

template <class T>
class RingDeque {
public:
    size_t size() const { return size_; }
    bool empty() const { return size_ == 0; }
    T& operator[](size_t i) { return buf_[(head_ + i) & (buf_.size() - 1)]; }
    T& front() { return (*this)[0]; }
    const T& operator[](size_t i) const { return buf_[(head_ + i) & (buf_.size() - 1)]; }
    const T& front() const { return (*this)[0]; }
    T& back() { return (*this)[size_ - 1]; }
    T& push_back() {
        if (size_ == buf_.size()) grow();
        T& slot = buf_[(head_ + size_) & (buf_.size() - 1)];
        ++size_;
        return slot;
    }
    void pop_front() {
        head_ = (head_ + 1) & (buf_.size() - 1);
        --size_;
    }
    void pop_back() { --size_; }
    void clear() {
        head_ = 0;
        size_ = 0;
    }

private:
    void grow() {
        std::vector<T> next(buf_.empty() ? 16 : buf_.size() * 2);
        for (size_t i = 0; i < size_; ++i) next[i] = std::move((*this)[i]);
        buf_ = std::move(next);
        head_ = 0;
    }
    std::vector<T> buf_;
    size_t head_ = 0;
    size_t size_ = 0;
};

}  // namespace hcasim::device
