# A bone window: centre 400, width 1800 (lower edge -500 HU, upper edge 1300 HU).
centre, width = 400, 1800
bone = np.clip((hu - (centre - width / 2)) / width, 0, 1)
fig, axes = plt.subplots(1, 2, figsize=(8, 4))
for ax, (title, picture) in zip(axes, [("soft tissue 40/400", window(hu, 40, 400)), ("bone 400/1800", bone)]):
    ax.imshow(picture, cmap="gray", vmin=0, vmax=1)
    ax.set_title(title)
    ax.axis("off")
plt.show()
expect_value("the spine (700 HU) in the bone window, 0 black to 1 white", round(float(bone[hu == 700][0]), 2), 0.67)
