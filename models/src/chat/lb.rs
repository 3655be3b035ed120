//! The load balancer: it hands each request to the next server in turn,
//! and tells a push client which server to connect to. It knows nothing
//! of the servers' health: a request handed to a dead server is lost, and
//! the client's retry goes to the next one.

use std::sync::Arc;

use sim_core::{Ctx, NodeId};

use super::msg::Msg;
use super::node::ChatNode;
use super::{ChatConfig, Layout};

#[derive(Debug)]
pub struct Lb {
    layout: Layout,
    next: u32,
}

impl Lb {
    pub fn new(config: &Arc<ChatConfig>) -> Lb {
        Lb {
            layout: Layout::of(config),
            next: 0,
        }
    }

    fn next_server(&mut self) -> NodeId {
        let server = self.layout.server(self.next % self.layout.servers);
        self.next = self.next.wrapping_add(1);
        server
    }

    pub fn on_message(&mut self, ctx: &mut Ctx<'_, ChatNode>, from: NodeId, msg: Msg) {
        match msg {
            Msg::Request(request) => {
                let server = self.next_server();
                ctx.send(
                    server,
                    Msg::Forward {
                        client: from,
                        request,
                    },
                );
            }
            Msg::Assign { request } => {
                let server = self.next_server();
                ctx.send(from, Msg::Assigned { request, server });
            }
            _ => {}
        }
    }
}
