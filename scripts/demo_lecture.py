#!/usr/bin/env python3
"""demo_lecture.py - makes the demo course with a recorded lecture for
scripts/run: a 60-second 720p H.264/AAC video made by the ffmpeg command-line
tool (a test card and a tone; nothing large is kept in the repository),
wrapped in a course package (courses/package.h format) with a video unit.

    scripts/demo_lecture.py OUT.zip
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import zipfile


def main():
    if len(sys.argv) != 2:
        print("usage: demo_lecture.py OUT.zip", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="tinchi-demo-") as tmp:
        video = os.path.join(tmp, "lecture.mp4")
        subprocess.run(["ffmpeg", "-nostdin", "-v", "error", "-y",
                        "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30:duration=60",
                        "-f", "lavfi", "-i", "sine=frequency=330:duration=60",
                        "-c:v", "libx264", "-preset", "veryfast", "-g", "60", "-b:v", "1500k",
                        "-c:a", "aac", "-b:a", "96k", "-movflags", "+faststart", video],
                       check=True)
        data = open(video, "rb").read()
        sha = hashlib.sha256(data).hexdigest()
        manifest = {
            "format": "tinchi-course",
            "version": 1,
            "course": {
                "code": "MEDIA100",
                "title": "Học trực tuyến qua bài giảng video",
                "description": "Khoá học mẫu có **bài giảng ghi hình**: xem trên máy tính hoặc "
                               "điện thoại, kể cả khi mạng yếu (bản 360p và bản chỉ có tiếng).",
                "language": "vi",
                "credits": "1",
                "level": "undergraduate-1",
                "tags": ["video", "bài giảng"],
                "starts_on": "",
                "ends_on": "",
                "capacity": 0,
            },
            "units": [
                {"kind": "text", "title": "Giới thiệu", "required": True,
                 "body": "Bài giảng sau dài một phút."},
                {"kind": "video", "title": "Bài 1: Bài giảng ghi hình", "required": True,
                 "material": {"file": "materials/" + sha, "kind": "video", "name": "bai-1.mp4",
                              "type": "video/mp4", "sha256": sha, "size": len(data)}},
            ],
        }
        with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
            z.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1))
            z.writestr(zipfile.ZipInfo("materials/" + sha), data, zipfile.ZIP_STORED)
    return 0


if __name__ == "__main__":
    sys.exit(main())
