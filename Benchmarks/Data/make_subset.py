#!/usr/bin/env python3
"""Builds the Fashion-MNIST subset that ships in Benchmarks/Data/fashion-mnist-subset/.

Usage (python3, standard library only):

    python3 Benchmarks/Data/make_subset.py [SOURCE_DIR] [OUTPUT_DIR]

SOURCE_DIR defaults to /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist package) and must
hold the four original files, gzipped or raw (train-images-idx3-ubyte[.gz], train-labels-idx1-ubyte[.gz],
t10k-images-idx3-ubyte[.gz], t10k-labels-idx1-ubyte[.gz]). OUTPUT_DIR defaults to the folder beside this script.

The rule, fixed so anyone can rebuild the same bytes:
  * training subset: walk the 60 000 training examples in file order and keep an example while its class has
    fewer than TRAIN_PER_CLASS (800) kept ones -> 8 000 examples, 800 per class, in their original relative order;
  * test subset: the same walk over the 10 000 test examples with TEST_PER_CLASS (100) -> 1 000 examples.
The files are written as gzipped IDX (level 9, header mtime 0, no file name), so the output is byte-for-byte
reproducible.

Why 800 and 100 rather than 1 000 and 200: the repository budget for the subset is 4 MB, and Fashion-MNIST
compresses to about 435 bytes per image, so 10 000 + 2 000 images would take 5.2 MB. 8 000 + 1 000 take 3.9 MB.
The script checks the budget and fails if it is exceeded.
"""

import gzip
import os
import struct
import sys

TRAIN_PER_CLASS = 800
TEST_PER_CLASS = 100
CLASS_COUNT = 10
BUDGET_BYTES = 4_000_000

IMAGES_MAGIC = 0x00000803  # unsigned bytes, 3 dimensions (count, rows, columns)
LABELS_MAGIC = 0x00000801  # unsigned bytes, 1 dimension (count)


def read_file(directory, name):
    """The bytes of NAME.gz (decompressed) or NAME in DIRECTORY."""
    gz_path = os.path.join(directory, name + ".gz")
    if os.path.exists(gz_path):
        with gzip.open(gz_path, "rb") as f:
            return f.read()
    with open(os.path.join(directory, name), "rb") as f:
        return f.read()


def read_images(directory, name):
    data = read_file(directory, name)
    magic, count, rows, columns = struct.unpack(">IIII", data[:16])
    if magic != IMAGES_MAGIC or len(data) != 16 + count * rows * columns:
        sys.exit(f"{name}: not an IDX image file of the expected size")
    size = rows * columns
    return [data[16 + i * size:16 + (i + 1) * size] for i in range(count)], rows, columns


def read_labels(directory, name):
    data = read_file(directory, name)
    magic, count = struct.unpack(">II", data[:8])
    if magic != LABELS_MAGIC or len(data) != 8 + count:
        sys.exit(f"{name}: not an IDX label file of the expected size")
    return list(data[8:])


def stratified_first(labels, per_class):
    """Indices of the first PER_CLASS examples of each class, in file order."""
    kept = [0] * CLASS_COUNT
    indices = []
    for i, label in enumerate(labels):
        if kept[label] < per_class:
            kept[label] += 1
            indices.append(i)
    if kept != [per_class] * CLASS_COUNT:
        sys.exit(f"not enough examples per class: {kept}")
    return indices


def write_gzip(path, payload):
    # mtime=0 and no file name in the header, so the same input always gives the same bytes.
    with open(path, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", compresslevel=9, fileobj=raw, mtime=0) as f:
            f.write(payload)
    return os.path.getsize(path)


def make_split(source, output, prefix, per_class):
    images, rows, columns = read_images(source, f"{prefix}-images-idx3-ubyte")
    labels = read_labels(source, f"{prefix}-labels-idx1-ubyte")
    if len(images) != len(labels):
        sys.exit(f"{prefix}: {len(images)} images but {len(labels)} labels")
    indices = stratified_first(labels, per_class)
    n = len(indices)
    image_bytes = struct.pack(">IIII", IMAGES_MAGIC, n, rows, columns) + b"".join(images[i] for i in indices)
    label_bytes = struct.pack(">II", LABELS_MAGIC, n) + bytes(labels[i] for i in indices)
    size = write_gzip(os.path.join(output, f"{prefix}-images-idx3-ubyte.gz"), image_bytes)
    size += write_gzip(os.path.join(output, f"{prefix}-labels-idx1-ubyte.gz"), label_bytes)
    print(f"{prefix}: {n} examples ({per_class} per class), {size} bytes")
    return size


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else "/usr/share/datasets/fashion-mnist"
    output = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                              "fashion-mnist-subset")
    os.makedirs(output, exist_ok=True)
    total = make_split(source, output, "train", TRAIN_PER_CLASS)
    total += make_split(source, output, "t10k", TEST_PER_CLASS)
    print(f"total: {total} bytes (budget {BUDGET_BYTES})")
    if total > BUDGET_BYTES:
        sys.exit("the subset exceeds the budget: lower TRAIN_PER_CLASS or TEST_PER_CLASS")


if __name__ == "__main__":
    main()
