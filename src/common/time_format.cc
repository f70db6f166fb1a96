#include "common/time_format.h"

#include <cstdio>
#include <ctime>

namespace lintel {

namespace {

std::string FormatImpl(std::chrono::system_clock::time_point t, bool micro) {
  auto secs = std::chrono::time_point_cast<std::chrono::seconds>(t);
  if (secs > t) secs -= std::chrono::seconds(1);
  std::time_t tt = std::chrono::system_clock::to_time_t(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  if (micro) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(t - secs).count();
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06ldZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                  static_cast<long>(us));
  } else {
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  }
  return buf;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

}  // namespace

std::string FormatRfc3339(std::chrono::system_clock::time_point t) { return FormatImpl(t, false); }
std::string FormatRfc3339Micro(std::chrono::system_clock::time_point t) {
  return FormatImpl(t, true);
}

std::optional<std::chrono::system_clock::time_point> ParseRfc3339(std::string_view s) {
  std::tm tm{};
  int year, mon, day, hour, min, sec;
  if (s.size() < 20 || !Digits(s, 0, 4, &year) || s[4] != '-' || !Digits(s, 5, 2, &mon) ||
      s[7] != '-' || !Digits(s, 8, 2, &day) || (s[10] != 'T' && s[10] != 't') ||
      !Digits(s, 11, 2, &hour) || s[13] != ':' || !Digits(s, 14, 2, &min) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (mon < 1 || mon > 12 || day < 1 || day > 31 || hour > 23 || min > 59 || sec > 60) {
    return std::nullopt;
  }
  size_t pos = 19;
  int64_t frac_ns = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t scale = 100000000;
    size_t start = pos;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      frac_ns += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start) return std::nullopt;
  }
  int offset_secs = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (!Digits(s, pos + 1, 2, &oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !Digits(s, pos + 4, 2, &om)) {
      return std::nullopt;
    }
    offset_secs = (oh * 3600 + om * 60) * (s[pos] == '+' ? 1 : -1);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size()) return std::nullopt;
  tm.tm_year = year - 1900;
  tm.tm_mon = mon - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = min;
  tm.tm_sec = sec;
  std::time_t tt = timegm(&tm);
  auto tp = std::chrono::system_clock::from_time_t(tt) - std::chrono::seconds(offset_secs);
  return tp + std::chrono::duration_cast<std::chrono::system_clock::duration>(
                  std::chrono::nanoseconds(frac_ns));
}

std::string HumanDuration(std::chrono::system_clock::duration d) {
  // Follows k8s.io/apimachinery/pkg/util/duration.HumanDuration.
  int64_t seconds = std::chrono::duration_cast<std::chrono::seconds>(d).count();
  if (seconds < 0) seconds = 0;
  auto s = [](int64_t v, const char* unit) { return std::to_string(v) + unit; };
  if (seconds < 60 * 2) return s(seconds, "s");
  int64_t minutes = seconds / 60;
  if (minutes < 10) {
    int64_t rs = seconds % 60;
    return rs == 0 ? s(minutes, "m") : s(minutes, "m") + s(rs, "s");
  }
  if (minutes < 60 * 3) return s(minutes, "m");
  int64_t hours = minutes / 60;
  if (hours < 8) {
    int64_t rm = minutes % 60;
    return rm == 0 ? s(hours, "h") : s(hours, "h") + s(rm, "m");
  }
  if (hours < 48) return s(hours, "h");
  if (hours < 24 * 8) {
    int64_t rh = hours % 24;
    return rh == 0 ? s(hours / 24, "d") : s(hours / 24, "d") + s(rh, "h");
  }
  if (hours < 24 * 365 * 2) return s(hours / 24, "d");
  if (hours < 24 * 365 * 8) {
    int64_t dy = (hours / 24) % 365;
    return dy == 0 ? s(hours / 24 / 365, "y") : s(hours / 24 / 365, "y") + s(dy, "d");
  }
  return s(hours / 24 / 365, "y");
}

}  // namespace lintel
