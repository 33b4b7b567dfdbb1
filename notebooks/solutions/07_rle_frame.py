# Frame 16 of the RLE copy, asked for uncompressed: the server decodes it.
rle = copy_paths["multiframe-rle"]
r = client.session.get(client.url(f"{rle}/frames/16"),
                       headers={"Accept": 'multipart/related; type="application/octet-stream"'})
expect(r, 200, parts=1, part_type="application/octet-stream; transfer-syntax=1.2.840.10008.1.2.1")
[frame] = read_frames(r)
from_rle = np.frombuffer(frame, dtype=np.uint16).reshape(256, 256)
expect_value("identical to frame 16 of the uncompressed instance", np.array_equal(from_rle, native.pixel_array[15]), True)
