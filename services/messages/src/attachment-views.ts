import type { AttachmentRow } from "./attachments.repository.ts";

/** An attachment in bus events and API records (part of MessageView). */
export interface AttachmentView {
  id: string;
  filename: string;
  contentType: string;
  size: number;
  width: number | null;
  height: number | null;
  /** Gateway path of the download edge. */
  url: string;
  /** Gateway path of the thumbnail; null for non-images. */
  thumbnailUrl: string | null;
}

/** The gateway paths of an attachment and of its thumbnail. */
export function attachmentPaths(id: string, filename: string): { url: string; thumbnailUrl: string } {
  const name = encodeURIComponent(filename);
  return { url: `/attachments/${id}/${name}`, thumbnailUrl: `/attachments/${id}/thumbnail/${name}` };
}

/** The view of a row. */
export function attachmentView(row: AttachmentRow): AttachmentView {
  const paths = attachmentPaths(row.id, row.filename);
  return {
    id: row.id,
    filename: row.filename,
    contentType: row.content_type,
    size: Number(row.size),
    width: row.width,
    height: row.height,
    url: paths.url,
    thumbnailUrl: row.thumbnail_key === null ? null : paths.thumbnailUrl,
  };
}
