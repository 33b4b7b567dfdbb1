from_frame = np.frombuffer(frames[0], dtype=np.uint8).reshape(ds.pixel_array.shape)
expect_value("identical", np.array_equal(from_frame, ds.pixel_array), True)
