//! The static directory end to end over a real temporary tree.

use std::fs;
use std::path::PathBuf;

use super::*;

fn tree(name: &str) -> PathBuf {
    let base = std::env::temp_dir().join(format!("covet-static-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&base);
    fs::create_dir_all(base.join("root/docs")).unwrap();
    fs::write(base.join("root/app.css"), b"body{}").unwrap();
    fs::write(base.join("root/app.css.br"), b"BR").unwrap();
    fs::write(base.join("root/.env"), b"SECRET=1").unwrap();
    fs::write(base.join("root/docs/index.html"), b"<h1>docs</h1>").unwrap();
    fs::write(base.join("root/404.html"), b"missing").unwrap();
    fs::write(base.join("root/big.bin"), vec![7u8; 100_000]).unwrap();
    fs::write(base.join("secret.txt"), b"secret").unwrap();
    std::os::unix::fs::symlink(base.join("secret.txt"), base.join("root/out.txt")).unwrap();
    base
}

fn dir(base: &std::path::Path, options: Options) -> StaticDir {
    StaticDir::new(&[base.join("root")], options).unwrap()
}

fn get<'a>(path: &'a str) -> Asked<'a> {
    Asked {
        method: "GET",
        path,
        full_path: path,
        ..Default::default()
    }
}

fn body(answer: &mut Answer) -> Vec<u8> {
    let mut buf = vec![0u8; answer.body.len() as usize];
    let n = answer.body.read(&mut buf).unwrap();
    buf.truncate(n);
    buf
}

fn header<'a>(answer: &'a Answer, name: &str) -> Option<&'a [u8]> {
    answer
        .headers
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v.as_slice())
}

#[test]
fn serves_files_with_validators() {
    let base = tree("serve");
    let d = dir(&base, Options::default());
    let mut a = d.answer(&get("/app.css"));
    assert_eq!(a.status, 200);
    assert_eq!(body(&mut a), b"body{}");
    assert_eq!(
        header(&a, "content-type"),
        Some(&b"text/css; charset=utf-8"[..])
    );
    let etag = header(&a, "etag").unwrap().to_vec();
    let again = get("/app.css").with_headers([(&b"if-none-match"[..], etag.as_slice())]);
    assert_eq!(d.answer(&again).status, 304);
    assert_eq!(
        d.answer(&Asked {
            method: "POST",
            ..get("/app.css")
        })
        .status,
        405
    );
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn refuses_the_ways_out() {
    let base = tree("attacks");
    let d = dir(&base, Options::default());
    for path in [
        "/../secret.txt",
        "/docs/../../secret.txt",
        "/.env",
        "/out.txt",
        "/app.css\0",
        "/..\\secret.txt",
        "/docs",
    ] {
        assert_eq!(d.answer(&get(path)).status, 404, "{path:?}");
    }
    let followed = dir(
        &base,
        Options {
            follow_symlink: true,
            ..Options::default()
        },
    );
    assert_eq!(followed.answer(&get("/out.txt")).status, 200);
    assert_eq!(followed.answer(&get("/../secret.txt")).status, 404);
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn html_mode() {
    let base = tree("html");
    let d = dir(
        &base,
        Options {
            html: true,
            ..Options::default()
        },
    );
    let redirect = d.answer(&get("/docs"));
    assert_eq!(
        (redirect.status, header(&redirect, "location")),
        (307, Some(&b"/docs/"[..]))
    );
    let mut index = d.answer(&get("/docs/"));
    assert_eq!(
        (index.status, body(&mut index)),
        (200, b"<h1>docs</h1>".to_vec())
    );
    let mut missing = d.answer(&get("/nope"));
    assert_eq!(
        (missing.status, body(&mut missing)),
        (404, b"missing".to_vec())
    );
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn ranges() {
    let base = tree("ranges");
    let d = dir(&base, Options::default());
    let one = d.answer(&get("/big.bin").with_headers([(&b"range"[..], &b"bytes=10-19"[..])]));
    assert_eq!((one.status, one.body.len()), (206, 10));
    assert_eq!(
        header(&one, "content-range"),
        Some(&b"bytes 10-19/100000"[..])
    );
    let mut two = d.answer(&get("/app.css").with_headers([(&b"range"[..], &b"bytes=0-0,-1"[..])]));
    assert_eq!(two.status, 206);
    let text = String::from_utf8(body(&mut two)).unwrap();
    assert!(
        text.contains("content-range: bytes 0-0/6\r\n\r\nb"),
        "{text}"
    );
    assert!(
        text.contains("content-range: bytes 5-5/6\r\n\r\n}"),
        "{text}"
    );
    let none = d.answer(&get("/app.css").with_headers([(&b"range"[..], &b"bytes=50-"[..])]));
    assert_eq!(
        (none.status, header(&none, "content-range")),
        (416, Some(&b"bytes */6"[..]))
    );
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn precompressed_siblings() {
    let base = tree("siblings");
    let d = dir(&base, Options::default());
    let mut br =
        d.answer(&get("/app.css").with_headers([(&b"accept-encoding"[..], &b"gzip, br"[..])]));
    assert_eq!(body(&mut br), b"BR");
    assert_eq!(header(&br, "content-encoding"), Some(&b"br"[..]));
    assert_eq!(header(&br, "vary"), Some(&b"Accept-Encoding"[..]));
    let mut gz =
        d.answer(&get("/app.css").with_headers([(&b"accept-encoding"[..], &b"gzip, br;q=0"[..])]));
    assert_eq!(body(&mut gz), b"body{}");
    assert_eq!(header(&gz, "content-encoding"), None);
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn cache_follows_changes() {
    let base = tree("cache");
    let d = dir(&base, Options::default());
    assert_eq!(body(&mut d.answer(&get("/app.css"))), b"body{}");
    fs::write(base.join("root/app.css"), b"body{color:red}").unwrap();
    assert_eq!(body(&mut d.answer(&get("/app.css"))), b"body{color:red}");
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn cache_control_by_pattern() {
    let base = tree("cc");
    let options = Options {
        cache_control: vec![("*.css".into(), "max-age=60".into())],
        ..Options::default()
    };
    let d = dir(&base, options);
    assert_eq!(
        header(&d.answer(&get("/app.css")), "cache-control"),
        Some(&b"max-age=60"[..])
    );
    assert_eq!(header(&d.answer(&get("/big.bin")), "cache-control"), None);
    fs::remove_dir_all(base).unwrap();
}

#[test]
fn a_single_file_answers_as_a_directory_file_does() {
    let base = tree("single");
    let path = base.join("root/big.bin");
    let d = dir(&base, Options::default());
    let ranged = Asked {
        range: Some(b"bytes=10-19"),
        ..get("/big.bin")
    };
    let mut from_dir = d.answer(&ranged);
    let mut single = answer_file(&path, b"application/x-test".to_vec(), &ranged, 200).unwrap();
    assert_eq!(single.status, 206);
    assert_eq!(body(&mut single), body(&mut from_dir));
    for name in ["etag", "last-modified", "content-range"] {
        assert_eq!(header(&single, name), header(&from_dir, name), "{name}");
    }
    assert_eq!(
        header(&single, "content-type"),
        Some(&b"application/x-test"[..])
    );
    let etag = header(&single, "etag").unwrap().to_vec();
    let mut cond = get("/big.bin");
    cond.conditions.if_none_match = Some(&etag);
    assert_eq!(
        answer_file(&path, Vec::new(), &cond, 200).unwrap().status,
        304
    );
    // Another status is sent as is, whole.
    let a = answer_file(&path, Vec::new(), &cond, 203).unwrap();
    assert_eq!((a.status, a.body.len()), (203, 100_000));
    // Another method: a matching If-None-Match fails (412) and Range is ignored.
    let post = Asked {
        method: "POST",
        ..cond
    };
    assert_eq!(
        answer_file(&path, Vec::new(), &post, 200).unwrap().status,
        412
    );
    let post_range = Asked {
        method: "POST",
        ..ranged
    };
    assert_eq!(
        answer_file(&path, Vec::new(), &post_range, 200)
            .unwrap()
            .status,
        200
    );
    assert!(answer_file(&base.join("root/docs"), Vec::new(), &cond, 200).is_err());
    assert!(answer_file(&base.join("root/none"), Vec::new(), &cond, 200).is_err());
    fs::remove_dir_all(base).unwrap();
}
