/* Transitional: the model declarations moved into fs_embed.h, the one
 * public header of the embed module. */
#include "fs_embed.h"
