#include "meter/cost_event.h"
