// media.js -- pictures and files from mxc:// URIs, as object URLs.
//
// Authenticated media needs the access token in a header, which an <img src>
// cannot send, so each file is fetched once with the token and shown through
// a blob: URL kept for the page's lifetime (keyed by URI and size wanted).

export class MediaCache {
  constructor(client) {
    this.client = client;
    this.urls = new Map(); // "mxc|w|h" -> Promise of an object URL
    this.ready = new Map(); // the same keys, once loaded: drawn at once on redraws
  }

  // The object URL if this image is loaded already, else null.
  loaded(mxc, { width = 800, height = 600 } = {}) {
    return this.ready.get(`${mxc}|${width}|${height}`) ?? null;
  }

  // An object URL for an image: the server's thumbnail when it has one (it
  // serves small images as their own thumbnail), else the whole file.
  image(mxc, { width = 800, height = 600 } = {}) {
    const key = `${mxc}|${width}|${height}`;
    if (!this.urls.has(key)) {
      const load = this.client.media(mxc, { thumbnail: { width, height } })
        .catch(() => this.client.media(mxc))
        .then((blob) => {
          const url = URL.createObjectURL(blob);
          this.ready.set(key, url);
          return url;
        });
      load.catch(() => this.urls.delete(key)); // a later draw tries again
      this.urls.set(key, load);
    }
    return this.urls.get(key);
  }

  // Saves a file under its name, as a download would.
  async download(mxc, name) {
    const url = URL.createObjectURL(await this.client.media(mxc));
    const a = document.createElement('a');
    a.href = url;
    a.download = name || 'file';
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  close() {
    for (const p of this.urls.values()) p.then((url) => URL.revokeObjectURL(url), () => {});
    this.urls.clear();
    this.ready.clear();
  }
}

// An image's pixel size, for m.image's info (other clients reserve the space).
export function imageSize(file) {
  return new Promise((resolve) => {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.onload = () => { resolve({ w: img.naturalWidth, h: img.naturalHeight }); URL.revokeObjectURL(url); };
    img.onerror = () => { resolve({}); URL.revokeObjectURL(url); };
    img.src = url;
  });
}
