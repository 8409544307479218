// The one exception type the weight-file readers throw for a bad or unsupported file.
#pragma once

#include <stdexcept>

namespace histoscope::io {

// Its message is a clause about the file ("it is truncated ...; download it again."), which
// readStateDict prefixes with "Cannot read weights from '<path>': ", so the parts need not
// carry the path around.
struct FormatError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace histoscope::io
