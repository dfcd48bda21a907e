#pragma once

#include <span>
#include <string>
#include <string_view>

namespace tollgate::meter {

// A string header of an AWS event-stream message (value type 7), such as ":event-type".
struct AwsEventStreamHeader {
  std::string_view name;   // at most 255 bytes
  std::string_view value;  // at most 65535 bytes
};

// One message of the binary `application/vnd.amazon.eventstream` framing that
// AwsEventStreamFramer reads (its header comment gives the layout), with both CRCs, so that the
// gateway can end a Bedrock stream with events the AWS SDKs accept. Pure.
std::string encodeAwsEventStreamMessage(std::span<const AwsEventStreamHeader> headers,
                                        std::string_view payload);

}  // namespace tollgate::meter
