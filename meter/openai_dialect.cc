#include "meter/openai_dialect.h"
