/* media.h -- the content repository (spec "Content repository"). */
#ifndef HT_API_MEDIA_H
#define HT_API_MEDIA_H

#include "matrix/handler.h"

ht_reply ht_api_media_upload(ht_ctx *ctx);        /* POST /media/v3/upload */
ht_reply ht_api_media_create(ht_ctx *ctx);        /* POST /media/v1/create */
ht_reply ht_api_media_upload_to(ht_ctx *ctx);     /* PUT /media/v3/upload/{serverName}/{mediaId} */
ht_reply ht_api_media_download(ht_ctx *ctx);      /* GET .../download/{serverName}/{mediaId}[/{fileName}] */
ht_reply ht_api_media_thumbnail(ht_ctx *ctx);     /* GET .../thumbnail/{serverName}/{mediaId} */
ht_reply ht_api_media_config(ht_ctx *ctx);        /* GET .../media/config */

ht_reply ht_api_media_federation_download(ht_ctx *ctx); /* GET /_matrix/federation/v1/media/download/{mediaId} */
ht_reply ht_api_media_federation_thumbnail(ht_ctx *ctx); /* GET /_matrix/federation/v1/media/thumbnail/{mediaId} */

#endif
