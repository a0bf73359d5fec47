/**
 * Splits a document into chunks a search can point at: by markdown headings first (a chunk
 * knows the heading it sits under), then by paragraphs, packed up to a size a model can quote
 * whole. Plain text is a document with no headings.
 */

export interface Chunk {
  ordinal: number;
  heading: string;
  body: string;
}

/** Characters a chunk aims to stay under; a single paragraph longer than this is cut at sentences. */
export const CHUNK_CHARS = 1_200;

const HEADING = /^(#{1,6})\s+(.+?)\s*#*\s*$/;

export function chunkDocument(body: string, maxChars: number = CHUNK_CHARS): Chunk[] {
  const sections: { heading: string; lines: string[] }[] = [{ heading: '', lines: [] }];
  let inFence = false;
  for (const line of body.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) inFence = !inFence;
    const heading = inFence ? null : HEADING.exec(line);
    if (heading !== null) sections.push({ heading: heading[2]!.trim(), lines: [] });
    else sections.at(-1)!.lines.push(line);
  }
  const chunks: Chunk[] = [];
  for (const section of sections) {
    const paragraphs = section.lines
      .join('\n')
      .split(/\n\s*\n/)
      .map((p) => p.trim())
      .filter((p) => p.length > 0)
      .flatMap((p) => (p.length <= maxChars ? [p] : splitLong(p, maxChars)));
    let current = '';
    for (const paragraph of paragraphs) {
      if (current.length > 0 && current.length + 2 + paragraph.length > maxChars) {
        chunks.push({ ordinal: chunks.length, heading: section.heading, body: current });
        current = '';
      }
      current = current.length === 0 ? paragraph : `${current}\n\n${paragraph}`;
    }
    if (current.length > 0 || (section.heading !== '' && paragraphs.length === 0)) {
      chunks.push({ ordinal: chunks.length, heading: section.heading, body: current });
    }
  }
  return chunks.length > 0 ? chunks : [{ ordinal: 0, heading: '', body: '' }];
}

/** A paragraph over the size, cut at sentence ends (or hard, for text with none). */
function splitLong(paragraph: string, maxChars: number): string[] {
  const sentences = paragraph.match(/[^.!?]+(?:[.!?]+|$)\s*/g) ?? [paragraph];
  const out: string[] = [];
  let current = '';
  for (const sentence of sentences) {
    for (let i = 0; i < sentence.length; i += maxChars) {
      const piece = sentence.slice(i, i + maxChars);
      if (current.length + piece.length > maxChars && current.length > 0) {
        out.push(current.trim());
        current = '';
      }
      current += piece;
    }
  }
  if (current.trim().length > 0) out.push(current.trim());
  return out;
}
