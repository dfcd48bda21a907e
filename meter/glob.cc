#include "meter/glob.h"
