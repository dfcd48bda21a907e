#include "meter/price_book.h"
