//! The domain check against DNS servers on 127.0.0.1 built with hickory-proto, including one
//! that tries to slip in a forged NXDOMAIN (wrong id, wrong question) before the real answer.

use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::MX;
use hickory_proto::rr::{Name, RData, Record, RecordType};
use turncoat_recon::dns::{DomainStatus, Resolver};

/// Answers every query with `answer(query, reply)`; first sends the forged replies `forge`
/// makes, if any.
fn server(
    answer: impl Fn(&Message, &mut Message) + Send + 'static,
    forge: impl Fn(&Message) -> Vec<Message> + Send + 'static,
) -> SocketAddr {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let addr = sock.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut buf = [0u8; 1500];
        while let Ok((n, from)) = sock.recv_from(&mut buf) {
            let Ok(q) = Message::from_vec(&buf[..n]) else {
                continue;
            };
            for f in forge(&q) {
                let _ = sock.send_to(&f.to_vec().unwrap(), from);
            }
            let mut r = Message::response(q.metadata.id, OpCode::Query);
            r.add_queries(q.queries.iter().cloned());
            answer(&q, &mut r);
            let _ = sock.send_to(&r.to_vec().unwrap(), from);
        }
    });
    addr
}

fn mx(q: &Message, r: &mut Message) {
    let query = &q.queries[0];
    if query.query_type() == RecordType::MX {
        r.answers.push(Record::from_rdata(
            query.name().clone(),
            60,
            RData::MX(MX::new(10, Name::from_ascii("mx.corp.example.").unwrap())),
        ));
    }
}

fn resolver(addr: SocketAddr) -> Resolver {
    let mut r = Resolver::new(addr);
    r.timeout = Duration::from_millis(500);
    r
}

#[test]
fn forged_replies_are_ignored() {
    let addr = server(mx, |q| {
        let mut wrong_id = Message::response(q.metadata.id.wrapping_add(1), OpCode::Query);
        wrong_id.add_queries(q.queries.iter().cloned());
        wrong_id.metadata.response_code = ResponseCode::NXDomain;
        let mut wrong_question = Message::response(q.metadata.id, OpCode::Query);
        wrong_question.add_query(hickory_proto::op::Query::query(
            Name::from_ascii("other.example.").unwrap(),
            RecordType::MX,
        ));
        wrong_question.metadata.response_code = ResponseCode::NXDomain;
        vec![wrong_id, wrong_question]
    });
    assert_eq!(
        resolver(addr).status("corp.example"),
        DomainStatus::Resolves
    );
}

#[test]
fn nxdomain_empty_and_servfail() {
    let addr = server(
        |q, r| {
            let name = q.queries[0].name().to_ascii();
            match name.trim_end_matches('.') {
                "gone.example" => r.metadata.response_code = ResponseCode::NXDomain,
                "broken.example" => r.metadata.response_code = ResponseCode::ServFail,
                "corp.example" => mx(q, r),
                _ => {}
            }
        },
        |_| Vec::new(),
    );
    let r = resolver(addr);
    assert_eq!(r.status("corp.example"), DomainStatus::Resolves);
    assert_eq!(
        r.status("gone.example"),
        DomainStatus::Unresolvable {
            why: "NXDOMAIN".into()
        }
    );
    assert_eq!(
        r.status("empty.example"),
        DomainStatus::Unresolvable {
            why: "no MX and no A record".into()
        }
    );
    assert!(matches!(
        r.status("broken.example"),
        DomainStatus::Unknown { .. }
    ));
    assert!(matches!(
        r.status("bad name with spaces"),
        DomainStatus::Unknown { .. }
    ));
}
