#include "net/dns_message.h"

#include <utility>

namespace lintel::net {
namespace {

constexpr size_t kMaxNameWireSize = 255;
constexpr int kMaxPointerJumps = 64;
constexpr uint16_t kFlagQr = 0x8000;
constexpr uint16_t kFlagAa = 0x0400;
constexpr uint16_t kFlagTc = 0x0200;
constexpr uint16_t kFlagRd = 0x0100;
constexpr uint16_t kFlagRa = 0x0080;

// A bounds-checked cursor over a message.
class Reader {
 public:
  explicit Reader(std::span<const uint8_t> message) : msg_(message) {}

  bool Skip(size_t n) {
    if (msg_.size() - pos_ < n) return false;
    pos_ += n;
    return true;
  }
  bool U16(uint16_t* out) {
    if (msg_.size() - pos_ < 2) return false;
    *out = static_cast<uint16_t>((msg_[pos_] << 8) | msg_[pos_ + 1]);
    pos_ += 2;
    return true;
  }
  bool U32(uint32_t* out) {
    uint16_t hi = 0, lo = 0;
    if (!U16(&hi) || !U16(&lo)) return false;
    *out = (uint32_t{hi} << 16) | lo;
    return true;
  }
  bool Bytes(size_t n, std::vector<uint8_t>* out) {
    if (msg_.size() - pos_ < n) return false;
    out->assign(msg_.begin() + static_cast<std::ptrdiff_t>(pos_),
                msg_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return true;
  }

  // A possibly compressed name; the cursor ends after its in-place part.
  Status Name(std::vector<std::string>* labels) {
    labels->clear();
    size_t at = pos_;
    size_t limit = pos_;  // a pointer must point before this (then: before its target)
    size_t wire_size = 1;
    int jumps = 0;
    bool jumped = false;
    while (true) {
      if (at >= msg_.size()) return BadRequest("name runs past the end of the message");
      uint8_t len = msg_[at];
      if ((len & 0xc0) == 0xc0) {
        if (at + 1 >= msg_.size()) return BadRequest("compression pointer cut short");
        size_t target = (size_t{len & 0x3fu} << 8) | msg_[at + 1];
        if (target >= limit || target < kDnsHeaderSize) {
          return BadRequest("compression pointer does not point back into the message body");
        }
        if (++jumps > kMaxPointerJumps) return BadRequest("too many compression pointers");
        if (!jumped) pos_ = at + 2;
        jumped = true;
        limit = target;
        at = target;
        continue;
      }
      if ((len & 0xc0) != 0) return BadRequest("unsupported label type");
      if (len == 0) {
        if (!jumped) pos_ = at + 1;
        return Status::Ok();
      }
      wire_size += len + 1u;
      if (wire_size > kMaxNameWireSize) return BadRequest("name longer than 255 bytes");
      if (msg_.size() - at - 1 < len) return BadRequest("label runs past the end of the message");
      labels->emplace_back(reinterpret_cast<const char*>(msg_.data() + at + 1), len);
      at += 1u + len;
    }
  }

 private:
  std::span<const uint8_t> msg_;
  size_t pos_ = 0;
};

class Writer {
 public:
  void U8(uint8_t v) { out_.push_back(v); }
  void U16(uint16_t v) {
    out_.push_back(static_cast<uint8_t>(v >> 8));
    out_.push_back(static_cast<uint8_t>(v & 0xff));
  }
  void U32(uint32_t v) {
    U16(static_cast<uint16_t>(v >> 16));
    U16(static_cast<uint16_t>(v & 0xffff));
  }
  void Labels(const std::vector<std::string>& labels) {
    for (const std::string& l : labels) {
      out_.push_back(static_cast<uint8_t>(l.size()));
      out_.insert(out_.end(), l.begin(), l.end());
    }
    out_.push_back(0);
  }
  void Header(const DnsHeader& h) {
    U16(h.id);
    U16(h.flags);
    U16(h.qdcount);
    U16(h.ancount);
    U16(h.nscount);
    U16(h.arcount);
  }
  void Question(const DnsQuestion& q) {
    Labels(q.labels);
    U16(q.type);
    U16(q.klass);
  }
  size_t Size() const { return out_.size(); }
  void Set16(size_t at, uint16_t v) {
    out_[at] = static_cast<uint8_t>(v >> 8);
    out_[at + 1] = static_cast<uint8_t>(v & 0xff);
  }
  std::vector<uint8_t> Take() { return std::move(out_); }

 private:
  std::vector<uint8_t> out_;
};

Status ParseQuestion(Reader& r, DnsQuestion* q) {
  LINTEL_RETURN_IF_ERROR(r.Name(&q->labels));
  if (!r.U16(&q->type) || !r.U16(&q->klass)) return BadRequest("question cut short");
  return Status::Ok();
}

Status ParseRecord(Reader& r, DnsRecord* rec) {
  std::vector<std::string> labels;
  LINTEL_RETURN_IF_ERROR(r.Name(&labels));
  rec->name = DnsQuestion{std::move(labels), 0, 0}.Name();
  uint16_t rdlength = 0;
  if (!r.U16(&rec->type) || !r.U16(&rec->klass) || !r.U32(&rec->ttl) || !r.U16(&rdlength) ||
      !r.Bytes(rdlength, &rec->rdata)) {
    return BadRequest("resource record cut short");
  }
  return Status::Ok();
}

uint16_t ResponseFlags(const DnsHeader& query, DnsRcode rcode) {
  return static_cast<uint16_t>(kFlagQr | (query.flags & (0x7800 | kFlagRd)) |
                               static_cast<uint16_t>(rcode));
}

}  // namespace

std::string DnsQuestion::Name() const {
  std::string out;
  for (const std::string& label : labels) {
    if (!out.empty()) out += '.';
    for (char ch : label) {
      auto c = static_cast<unsigned char>(ch);
      if (c == '.' || c == '\\') {
        out += '\\';
        out += ch;
      } else if (c <= 0x20 || c >= 0x7f) {
        char esc[5];
        esc[0] = '\\';
        esc[1] = static_cast<char>('0' + c / 100);
        esc[2] = static_cast<char>('0' + c / 10 % 10);
        esc[3] = static_cast<char>('0' + c % 10);
        esc[4] = '\0';
        out += esc;
      } else {
        out += ch;
      }
    }
  }
  return out;
}

std::optional<Ipv4> DnsRecord::a() const {
  if (type != kDnsTypeA || klass != kDnsClassIn || rdata.size() != 4) return std::nullopt;
  return Ipv4{(uint32_t{rdata[0]} << 24) | (uint32_t{rdata[1]} << 16) | (uint32_t{rdata[2]} << 8) |
              rdata[3]};
}

std::optional<DnsHeader> ParseDnsHeader(std::span<const uint8_t> message) {
  Reader r(message);
  DnsHeader h;
  if (!r.U16(&h.id) || !r.U16(&h.flags) || !r.U16(&h.qdcount) || !r.U16(&h.ancount) ||
      !r.U16(&h.nscount) || !r.U16(&h.arcount)) {
    return std::nullopt;
  }
  return h;
}

Result<DnsQuery> ParseDnsQuery(std::span<const uint8_t> message) {
  std::optional<DnsHeader> header = ParseDnsHeader(message);
  if (!header) return BadRequest("message shorter than a DNS header");
  if (header->qdcount != 1) {
    return BadRequest("query has " + std::to_string(header->qdcount) + " questions, not 1");
  }
  DnsQuery q;
  q.header = *header;
  Reader r(message);
  (void)r.Skip(kDnsHeaderSize);
  LINTEL_RETURN_IF_ERROR(ParseQuestion(r, &q.question));
  uint32_t records = uint32_t{header->ancount} + header->nscount + header->arcount;
  for (uint32_t i = 0; i < records; ++i) {
    DnsRecord rec;
    LINTEL_RETURN_IF_ERROR(ParseRecord(r, &rec));
    bool additional = i >= uint32_t{header->ancount} + header->nscount;
    if (additional && rec.type == kDnsTypeOpt) {
      if (!rec.name.empty()) return BadRequest("OPT record not owned by the root");
      if (q.edns_udp_size) return BadRequest("more than one OPT record");
      q.edns_udp_size = rec.klass;
    }
  }
  return q;
}

Result<DnsResponse> ParseDnsResponse(std::span<const uint8_t> message) {
  std::optional<DnsHeader> header = ParseDnsHeader(message);
  if (!header) return BadRequest("message shorter than a DNS header");
  DnsResponse resp;
  resp.header = *header;
  Reader r(message);
  (void)r.Skip(kDnsHeaderSize);
  for (uint16_t i = 0; i < header->qdcount; ++i) {
    DnsQuestion q;
    LINTEL_RETURN_IF_ERROR(ParseQuestion(r, &q));
    resp.questions.push_back(std::move(q));
  }
  for (auto [count, section] :
       {std::pair{header->ancount, &resp.answers}, std::pair{header->nscount, &resp.authority},
        std::pair{header->arcount, &resp.additional}}) {
    for (uint16_t i = 0; i < count; ++i) {
      DnsRecord rec;
      LINTEL_RETURN_IF_ERROR(ParseRecord(r, &rec));
      section->push_back(std::move(rec));
    }
  }
  return resp;
}

Result<std::vector<uint8_t>> BuildDnsQuery(uint16_t id, std::string_view name, uint16_t type,
                                           uint16_t klass) {
  if (!name.empty() && name.back() == '.') name.remove_suffix(1);
  DnsQuestion q{{}, type, klass};
  size_t wire_size = 1;
  while (!name.empty()) {
    size_t dot = name.find('.');
    std::string_view label = name.substr(0, dot);
    if (label.empty() || label.size() > 63) {
      return BadRequest("DNS name has an empty label or one longer than 63 bytes");
    }
    wire_size += label.size() + 1;
    q.labels.emplace_back(label);
    name = dot == std::string_view::npos ? std::string_view() : name.substr(dot + 1);
    if (dot != std::string_view::npos && name.empty()) return BadRequest("DNS name ends in '..'");
  }
  if (wire_size > kMaxNameWireSize) return BadRequest("DNS name longer than 255 bytes");
  Writer w;
  w.Header(DnsHeader{id, kFlagRd, 1, 0, 0, 0});
  w.Question(q);
  return w.Take();
}

std::vector<uint8_t> BuildDnsResponse(const DnsQuery& query, const DnsAnswer& answer,
                                      size_t max_size) {
  DnsHeader h;
  h.id = query.header.id;
  h.flags = ResponseFlags(query.header, answer.rcode);
  if (answer.authoritative) h.flags |= kFlagAa;
  if (answer.recursion_available) h.flags |= kFlagRa;
  h.qdcount = 1;
  h.arcount = query.edns_udp_size ? 1 : 0;
  Writer w;
  w.Header(h);
  w.Question(query.question);
  // The OPT record is written last but its room is kept from the start.
  const size_t opt_size = query.edns_udp_size ? 11 : 0;
  constexpr size_t kARecordSize = 16;  // pointer, type, class, ttl, rdlength, address
  uint16_t answers = 0;
  bool truncated = false;
  for (Ipv4 ip : answer.addresses) {
    if (w.Size() + kARecordSize + opt_size > max_size || answers == 0xffff) {
      truncated = true;
      break;
    }
    w.U16(0xc000 | kDnsHeaderSize);  // the question's name
    w.U16(kDnsTypeA);
    w.U16(kDnsClassIn);
    w.U32(answer.ttl);
    w.U16(4);
    w.U32(ip.value);
    ++answers;
  }
  if (query.edns_udp_size) {
    w.U8(0);  // the root name
    w.U16(kDnsTypeOpt);
    w.U16(static_cast<uint16_t>(kDnsUdpMaxSize));
    w.U32(0);
    w.U16(0);
  }
  w.Set16(6, answers);
  uint16_t flags = h.flags;
  if (truncated) flags |= kFlagTc;
  w.Set16(2, flags);
  return w.Take();
}

std::vector<uint8_t> BuildDnsHeaderResponse(const DnsHeader& query_header, DnsRcode rcode) {
  Writer w;
  w.Header(DnsHeader{query_header.id, ResponseFlags(query_header, rcode), 0, 0, 0, 0});
  return w.Take();
}

size_t DnsUdpLimit(const DnsQuery& query) {
  if (!query.edns_udp_size) return kDnsUdpMinSize;
  size_t size = *query.edns_udp_size;
  return size < kDnsUdpMinSize ? kDnsUdpMinSize : (size > kDnsUdpMaxSize ? kDnsUdpMaxSize : size);
}

std::string DnsLower(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

}  // namespace lintel::net
