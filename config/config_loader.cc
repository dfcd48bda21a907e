#include "config/config_loader.h"
