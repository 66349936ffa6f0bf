/** The part of lzma-native (liblzma bindings, no types of its own) the index uses. */
declare module 'lzma-native' {
  interface CompressOptions {
    preset?: number;
    check?: number;
  }
  const lzma: {
    compress(data: Buffer, options?: CompressOptions): Promise<Buffer>;
    decompress(data: Buffer): Promise<Buffer>;
    CHECK_CRC64: number;
  };
  export default lzma;
}
