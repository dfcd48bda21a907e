#pragma once

#include <cstdint>
#include <string_view>

namespace tollgate::meter {

// CRC-32 as in IEEE 802.3, gzip and zlib's crc32() (reflected polynomial 0xEDB88320, initial
// value and final XOR 0xFFFFFFFF): the checksum of the AWS event-stream prelude and message.
// Continues a running checksum: crc32(crc32(0, a), b) == crc32(0, a + b). Table-driven,
// eight bytes per step (slicing-by-8), so that checking every message costs little next to
// reading it.
uint32_t crc32(uint32_t crc, std::string_view bytes);

}  // namespace tollgate::meter
