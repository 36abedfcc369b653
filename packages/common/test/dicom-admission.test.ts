import { checkDicomAdmission, isDicomRejection, parseDicom } from '@medai-flow/common';
import { describe, expect, it } from 'vitest';

const EXPLICIT_LITTLE_ENDIAN = '1.2.840.10008.1.2.1';
const EXPLICIT_BIG_ENDIAN = '1.2.840.10008.1.2.2';

/** Encodes one explicit VR element with a 16-bit length (UI, CS, UL and the like). */
function element(group: number, tag: number, vr: string, value: string, bigEndian = false): Buffer {
  let bytes = Buffer.from(value, 'latin1');
  if (bytes.length % 2 === 1) bytes = Buffer.concat([bytes, Buffer.from(vr === 'UI' ? '\0' : ' ')]);
  const header = Buffer.alloc(8);
  if (bigEndian) {
    header.writeUInt16BE(group, 0);
    header.writeUInt16BE(tag, 2);
    header.writeUInt16BE(bytes.length, 6);
  } else {
    header.writeUInt16LE(group, 0);
    header.writeUInt16LE(tag, 2);
    header.writeUInt16LE(bytes.length, 6);
  }
  header.write(vr, 4, 'latin1');
  return Buffer.concat([header, bytes]);
}

/** Builds a Part 10 file of the given transfer syntax whose data set holds only the modality. */
function dicomFile(syntax: string, modality: string): Buffer {
  const bigEndian = syntax === EXPLICIT_BIG_ENDIAN;
  const meta = element(0x0002, 0x0010, 'UI', syntax);
  const groupLength = Buffer.alloc(12);
  groupLength.writeUInt16LE(0x0002, 0);
  groupLength.write('UL', 4, 'latin1');
  groupLength.writeUInt16LE(4, 6);
  groupLength.writeUInt32LE(meta.length, 8);
  const dataSet = element(0x0008, 0x0060, 'CS', modality, bigEndian);
  return Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), groupLength, meta, dataSet]);
}

/** An element header that claims more bytes than the file has. */
const OVERRUN = Buffer.from([0x10, 0x00, 0x10, 0x00, 0x50, 0x4e, 0xff, 0x00]);

describe('parseDicom', () => {
  it('reports the message of an error object', () => {
    const parsed = parseDicom(Buffer.concat([dicomFile(EXPLICIT_LITTLE_ENDIAN, 'CT'), OVERRUN]));

    expect(isDicomRejection(parsed)).toBe(true);
    const detail = isDicomRejection(parsed) ? parsed.detail : '';
    expect(detail).not.toContain('[object Object]');
    expect(detail).toContain('buffer overrun');
  });

  it('reports the message of a thrown string', () => {
    const parsed = parseDicom(Buffer.from('not a DICOM file'.repeat(20)));

    expect(isDicomRejection(parsed) ? parsed.detail : '').toContain('DICM prefix not found');
  });

  it('answers 415 for a big endian file that does not parse', () => {
    const parsed = parseDicom(Buffer.concat([dicomFile(EXPLICIT_BIG_ENDIAN, 'CT'), OVERRUN]));

    expect(parsed).toMatchObject({ code: 'unsupported-media-type' });
    expect(isDicomRejection(parsed) ? parsed.detail : '').toContain(
      `${EXPLICIT_BIG_ENDIAN} (explicit VR big endian)`,
    );
  });
});

describe('checkDicomAdmission', () => {
  it('names explicit big endian with 415', () => {
    const parsed = parseDicom(dicomFile(EXPLICIT_BIG_ENDIAN, 'CT'));
    if (isDicomRejection(parsed)) throw new Error(parsed.detail);

    const rejection = checkDicomAdmission(parsed, ['CT']);

    expect(rejection?.code).toBe('unsupported-media-type');
    expect(rejection?.detail).toContain('explicit VR big endian');
  });

  it('truncates a long modality', () => {
    const modality = `MR${'X'.repeat(60_000)}`;
    const parsed = parseDicom(dicomFile(EXPLICIT_LITTLE_ENDIAN, modality));
    if (isDicomRejection(parsed)) throw new Error(parsed.detail);

    const rejection = checkDicomAdmission(parsed, ['CT']);

    expect(rejection?.code).toBe('invalid-input');
    expect(rejection?.detail).toContain(`${modality.slice(0, 64)}...`);
    expect(rejection?.detail.length).toBeLessThan(200);
  });
});
