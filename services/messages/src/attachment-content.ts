import { sniffImageType } from "@beep/blob";
import sharp from "sharp";

/** Longest side of a thumbnail, in pixels (MSG-8). */
export const THUMBNAIL_MAX_PX = 400;

/** What the bytes of an upload are: the sniffed type, and for images their size and a thumbnail. */
export interface AttachmentContent {
  contentType: string;
  width: number | null;
  height: number | null;
  /** WebP, at most {@link THUMBNAIL_MAX_PX} on its longer side; null for non-images. */
  thumbnail: Buffer | null;
}

/** Pixels sharp may decode for one upload (a decompression bomb is refused long before memory runs out). */
const MAX_INPUT_PIXELS = 100_000_000;

/**
 * Sniffs the type from the magic bytes (the shared sniffer of @beep/blob; the client's declared type is never
 * trusted) and, for png/jpeg/gif/webp, reads the dimensions (as displayed, EXIF orientation applied;
 * the first frame of an animation) and renders the thumbnail with sharp. Anything else, including an
 * image sharp cannot decode, is stored as application/octet-stream and served as a download.
 */
export async function analyseAttachment(bytes: Uint8Array): Promise<AttachmentContent> {
  const imageType = sniffImageType(bytes);
  const plain: AttachmentContent = {
    contentType: "application/octet-stream",
    width: null,
    height: null,
    thumbnail: null,
  };
  if (!imageType) return plain;
  try {
    const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const options = { limitInputPixels: MAX_INPUT_PIXELS };
    const meta = await sharp(input, options).metadata();
    const width = meta.autoOrient?.width ?? meta.width;
    const height = meta.pageHeight ?? meta.autoOrient?.height ?? meta.height;
    if (!width || !height) return plain;
    const thumbnail = await sharp(input, options)
      .autoOrient()
      .resize(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    return { contentType: imageType, width, height, thumbnail };
  } catch {
    // Magic bytes of an image but not decodable: keep the file, never render it inline.
    return plain;
  }
}
