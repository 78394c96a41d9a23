"""The content-based upload checker, against good files and a generated hostile corpus."""
import io

import pytest

from applications.uploads import UploadRejected, upload_inspect
from tests.applications import corpus


class Named(io.BytesIO):
    def __init__(self, data: bytes, name: str):
        super().__init__(data)
        self.name = name


@pytest.mark.parametrize(
    ("name", "data", "kind"),
    [
        ("photo.jpg", corpus.jpeg_bytes(), "jpeg"),
        ("screenshot.png", corpus.png_bytes(), "png"),
        ("scan.pdf", corpus.pdf_bytes(), "pdf"),
        # Names lie both ways: a PDF called .jpg is still accepted as the PDF it is.
        ("misnamed.jpg", corpus.pdf_bytes(), "pdf"),
    ],
)
def test_good_files_are_accepted_by_content(name, data, kind):
    inspected = upload_inspect(Named(data, name))
    assert inspected.kind == kind
    assert inspected.size == len(data)
    assert len(inspected.sha256) == 64
    assert inspected.original_name == name


def test_dimensions_read_and_position_reset():
    file = Named(corpus.jpeg_bytes(size=(320, 200)), "a.jpg")
    inspected = upload_inspect(file)
    assert (inspected.width, inspected.height) == (320, 200)
    assert file.tell() == 0


def test_path_in_name_is_stripped():
    inspected = upload_inspect(Named(corpus.png_bytes(), "C:\\Users\\x\\..\\病历.png"))
    assert inspected.original_name == "病历.png"


CORPUS = corpus.hostile_corpus()


def test_corpus_is_big_enough():
    assert len(CORPUS) >= 15


@pytest.mark.parametrize("case", sorted(CORPUS))
def test_hostile_corpus(case):
    name, data, expected = CORPUS[case]
    if expected == "neutralise":
        # Accepted by the checker; the re-encoding task strips what rides along (tested there).
        assert upload_inspect(Named(data, name)).kind == "jpeg"
        return
    with pytest.raises(UploadRejected) as caught:
        upload_inspect(Named(data, name))
    assert caught.value.code == expected
    message = caught.value.messages[0]
    assert name in message  # the citizen sees which file
    assert "未能上传" in message


def test_pixel_limit_is_a_setting(settings):
    settings.UPLOAD_MAX_PIXELS = 100 * 100
    with pytest.raises(UploadRejected) as caught:
        upload_inspect(Named(corpus.jpeg_bytes(size=(200, 200)), "a.jpg"))
    assert caught.value.code == "image_pixels"


def test_size_limit_is_a_setting(settings):
    settings.UPLOAD_MAX_BYTES = 1000
    with pytest.raises(UploadRejected) as caught:
        upload_inspect(Named(corpus.jpeg_bytes(), "big.jpg"))
    assert caught.value.code == "too_big"
    assert "1000" in caught.value.messages[0] or "KB" in caught.value.messages[0]


def test_bomb_is_refused_without_decoding(monkeypatch):
    from PIL import ImageFile

    def explode(self, *args, **kwargs):
        raise AssertionError("the bomb was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", explode)
    name, data, _ = CORPUS["png_bomb"]
    with pytest.raises(UploadRejected) as caught:
        upload_inspect(Named(data, name))
    assert caught.value.code == "image_pixels"


def test_messages_name_what_the_file_really_is():
    for case, fragment in [("gif", "GIF"), ("zip_named_pdf", "压缩包"), ("pe_binary", "可执行程序"), ("svg", "SVG"), ("html_named_jpg", "网页")]:
        name, data, _ = CORPUS[case]
        with pytest.raises(UploadRejected) as caught:
            upload_inspect(Named(data, name))
        assert fragment in caught.value.messages[0], case
