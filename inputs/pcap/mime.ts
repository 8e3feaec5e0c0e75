// Text-protocol helpers shared by the HTTP and SMTP analyzers of the pcap input: a bounded line
// reader over a byte stream, and a MIME message parser (RFC 2045/2046) that turns the lines of a
// mail (or of a multipart body) into entities: their headers (names upper-cased, folded lines
// joined) and the decoded content of each leaf entity (7bit/8bit/binary as is with CRLF between
// lines, quoted-printable with CRLF after each hard line break, base64), as Zeek's MIME analyzer
// delivers them to the files framework. The line end before a boundary belongs to the boundary,
// so an unencoded part's content is exactly what lies between its headers and "\r\n--boundary". Memory: the current line and the current header only.

/** Longest header (name + unfolded value) kept; longer ones are cut. */
const MAX_HEADER = 16_384;
/** Most nested multipart levels followed; deeper boundaries are content. */
const MAX_MIME_DEPTH = 32;

/** Reads LF-terminated lines out of stream chunks, keeping at most `maxLine` bytes of a partial line. */
export class LineReader {
  private partial: Buffer[] = [];
  private partialBytes = 0;

  constructor(private readonly maxLine: number) {}

  /** Bytes of an unfinished line waiting. */
  get pending(): number {
    return this.partialBytes;
  }

  /**
   * The next line of `data` from `from` (without its CR LF), or undefined when the line end is not
   * in `data` yet (the bytes are kept). `next` is where the caller continues. `overflow` is set
   * when the partial line grew past maxLine (its bytes are dropped).
   */
  next(data: Buffer, from: number): { line: Buffer | undefined; next: number; overflow: boolean } {
    const lf = data.indexOf(0x0a, from);
    if (lf < 0) {
      const piece = data.subarray(from);
      if (this.partialBytes + piece.length > this.maxLine) {
        this.reset();
        return { line: undefined, next: data.length, overflow: true };
      }
      if (piece.length > 0) {
        this.partial.push(Buffer.from(piece));
        this.partialBytes += piece.length;
      }
      return { line: undefined, next: data.length, overflow: false };
    }
    let line = data.subarray(from, lf);
    if (this.partialBytes > 0) {
      line = Buffer.concat([...this.partial, line]);
      this.reset();
    }
    if (line.length > this.maxLine) return { line: undefined, next: lf + 1, overflow: true };
    if (line.length > 0 && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
    return { line, next: lf + 1, overflow: false };
  }

  reset(): void {
    this.partial = [];
    this.partialBytes = 0;
  }
}

/** What a MIME message parser reports. */
export interface MimeHandlers {
  /** An entity starts (the message itself first, then each part). */
  beginEntity(): void;
  /** A header of the current entity: name upper-case, value unfolded and trimmed. */
  header(name: string, value: string): void;
  /** Decoded content of the current leaf entity. */
  data(bytes: Buffer): void;
  /** The current entity ended. */
  endEntity(): void;
}

type Encoding = 'plain' | 'quoted-printable' | 'base64';

interface Entity {
  inHeaders: boolean;
  /** The header being read (name: value), until the next non-continuation line. */
  header: string | undefined;
  /** Multipart boundary, when a multipart entity. */
  boundary: string | undefined;
  encoding: Encoding;
  /** Content was delivered and the next line needs a CRLF first. */
  needCrlf: boolean;
  /** base64 characters not yet decoded (fewer than 4). */
  base64Rest: string;
  /** A multipart entity past its closing boundary: lines are epilogue. */
  closed: boolean;
}

const CRLF = Buffer.from('\r\n');

/** Parses one MIME message fed line by line. */
export class MimeMessage {
  private readonly stack: Entity[] = [];

  constructor(private readonly handlers: MimeHandlers) {
    this.begin();
  }

  private begin(): void {
    this.stack.push({ inHeaders: true, header: undefined, boundary: undefined, encoding: 'plain', needCrlf: false, base64Rest: '', closed: false });
    this.handlers.beginEntity();
  }

  /** One line of the message, without its line end. */
  line(line: Buffer): void {
    if (line.length >= 2 && line[0] === 0x2d && line[1] === 0x2d && this.boundaryLine(line.toString('latin1'))) return;
    const top = this.stack[this.stack.length - 1]!;
    if (top.inHeaders) {
      this.headerLine(top, line.toString('latin1'));
      return;
    }
    if (top.boundary !== undefined) return; // preamble or epilogue of a multipart entity
    this.content(top, line);
  }

  /** The message ended: every open entity ends. */
  end(): void {
    while (this.stack.length > 0) this.pop(false);
  }

  /** Handles a boundary of an open multipart entity; false when the line is no boundary. */
  private boundaryLine(text: string): boolean {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const entity = this.stack[i]!;
      if (entity.boundary === undefined || entity.inHeaders || entity.closed) continue;
      const delimiter = `--${entity.boundary}`;
      if (!text.startsWith(delimiter)) continue;
      const rest = text.slice(delimiter.length);
      const closing = rest.startsWith('--');
      if ((closing ? rest.slice(2) : rest).trim() !== '') continue;
      while (this.stack.length > i + 1) this.pop(true);
      if (closing) entity.closed = true;
      else if (this.stack.length < MAX_MIME_DEPTH) this.begin();
      return true;
    }
    return false;
  }

  private headerLine(entity: Entity, text: string): void {
    if (text === '') {
      this.flushHeader(entity);
      entity.inHeaders = false;
      return;
    }
    if ((text[0] === ' ' || text[0] === '\t') && entity.header !== undefined) {
      if (entity.header.length + text.length <= MAX_HEADER) entity.header += text;
      return;
    }
    this.flushHeader(entity);
    entity.header = text.slice(0, MAX_HEADER);
  }

  private flushHeader(entity: Entity): void {
    const header = entity.header;
    entity.header = undefined;
    if (header === undefined) return;
    const colon = header.indexOf(':');
    if (colon <= 0) return;
    const name = header.slice(0, colon).trim().toUpperCase();
    const value = header.slice(colon + 1).trim();
    if (name === 'CONTENT-TYPE') {
      const type = value.split(';')[0]!.trim().toLowerCase();
      if (type.startsWith('multipart/')) {
        const boundary = /boundary\s*=\s*(?:"([^"]*)"|([^;\s]+))/i.exec(value);
        const text = boundary?.[1] ?? boundary?.[2];
        if (text !== undefined && text !== '') entity.boundary = text;
      }
    } else if (name === 'CONTENT-TRANSFER-ENCODING') {
      const encoding = value.toLowerCase();
      entity.encoding = encoding === 'quoted-printable' || encoding === 'base64' ? encoding : 'plain';
    }
    this.handlers.header(name, value);
  }

  private content(entity: Entity, line: Buffer): void {
    const handlers = this.handlers;
    if (entity.encoding === 'base64') {
      const text = entity.base64Rest + line.toString('latin1').replace(/[^A-Za-z0-9+/]/g, '');
      const whole = text.length - (text.length % 4);
      entity.base64Rest = text.slice(whole);
      if (whole > 0) handlers.data(Buffer.from(text.slice(0, whole), 'base64'));
      return;
    }
    if (entity.encoding === 'quoted-printable') {
      const { bytes, soft } = decodeQuotedPrintableLine(line);
      if (bytes.length > 0) handlers.data(bytes);
      if (!soft) handlers.data(CRLF);
      return;
    }
    if (entity.needCrlf) handlers.data(CRLF);
    if (line.length > 0) handlers.data(line);
    entity.needCrlf = true;
  }

  /** Ends the innermost entity; the line end before a boundary belongs to the boundary. */
  private pop(atBoundary: boolean): void {
    const entity = this.stack.pop()!;
    if (entity.inHeaders) this.flushHeader(entity);
    if (entity.needCrlf && !atBoundary) this.handlers.data(CRLF);
    if (entity.base64Rest.length > 1) this.handlers.data(Buffer.from(entity.base64Rest, 'base64'));
    this.handlers.endEntity();
  }
}

const HEX = /^[0-9A-Fa-f]{2}$/;

/** One quoted-printable line decoded; `soft` when it ends with a soft line break ('='). */
function decodeQuotedPrintableLine(line: Buffer): { bytes: Buffer; soft: boolean } {
  let end = line.length;
  while (end > 0 && (line[end - 1] === 0x20 || line[end - 1] === 0x09)) end--;
  const soft = end > 0 && line[end - 1] === 0x3d;
  if (soft) end--;
  const out = Buffer.alloc(end);
  let n = 0;
  for (let i = 0; i < end; i++) {
    const c = line[i]!;
    if (c === 0x3d && i + 2 < end && HEX.test(line.toString('latin1', i + 1, i + 3))) {
      out[n++] = parseInt(line.toString('latin1', i + 1, i + 3), 16);
      i += 2;
    } else out[n++] = c;
  }
  return { bytes: out.subarray(0, n), soft };
}
