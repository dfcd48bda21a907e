#include "meter/sse_framer.h"
