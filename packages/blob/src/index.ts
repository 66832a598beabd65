export type { BlobInfo, BlobStore } from "./blob.ts";
export { assertBlobKey, assertBlobPrefix, assertContentType, MAX_KEY_LENGTH } from "./blob-input.ts";
export { FileBlobStore } from "./file-blob-store.ts";
export { IMAGE_TYPES, type ImageType, isImageType, sniffImageType } from "./image-type.ts";
export { BLOB_URL_SCHEMES, openBlobStore } from "./open-blob-store.ts";
export { S3BlobStore, type S3BlobStoreOptions } from "./s3-blob-store.ts";
