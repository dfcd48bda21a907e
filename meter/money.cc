#include "meter/money.h"
